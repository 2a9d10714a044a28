import PortwardenModel

/// Reads one condition (`port 557`, `catalog and scope != loopback`, …) and compiles it,
/// checking each value against its field as it goes. Recursive descent, one token of
/// lookahead; `or` binds loosest, then `and`, then `not`.
struct ConditionParser {
    /// Host tests are shared by every rule of a policy, so each is answered once per host.
    final class HostTests {
        private(set) var tests: [HostTest] = []
        func index(of test: HostTest) -> Int {
            if let i = tests.firstIndex(of: test) { return i }
            tests.append(test)
            return tests.count - 1
        }
    }

    private var tokens: [Token]
    private var position = 0
    private var depth = 0
    private let catalog: LegacyCatalog?
    private let hostTests: HostTests

    /// Parentheses and `not` nest at most this deep; past it a file is more likely an attack than a rule.
    static let maximumDepth = 64

    private let knownTags: Set<String>?
    /// Things that parse but are probably not what was meant.
    private(set) var warnings: [ExpressionError] = []

    /// The compiled condition and its warnings, or the first error. `knownTags` (folded to
    /// lower case) are the tags some host can carry; a rule naming another is warned about.
    static func compile(_ text: String, catalog: LegacyCatalog?, hostTests: HostTests,
                        knownTags: Set<String>? = nil) throws(ExpressionError) -> (Condition, [ExpressionError]) {
        var parser = ConditionParser(tokens: try ExpressionLexer.tokens(text), catalog: catalog, hostTests: hostTests, knownTags: knownTags)
        guard parser.peek.kind != .end else {
            throw ExpressionError(offset: 0, message: "the condition is empty: expected a test such as 'port 557'")
        }
        let condition = try parser.parseOr()
        guard parser.peek.kind == .end else {
            let t = parser.peek
            throw ExpressionError(offset: t.offset, message: "expected 'and', 'or' or the end of the condition; got \(t.quoted)")
        }
        return (condition, parser.warnings)
    }

    private init(tokens: [Token], catalog: LegacyCatalog?, hostTests: HostTests, knownTags: Set<String>?) {
        self.tokens = tokens
        self.catalog = catalog
        self.hostTests = hostTests
        self.knownTags = knownTags
    }

    private var peek: Token { tokens[position] }
    private mutating func next() -> Token {
        let t = tokens[position]
        if position < tokens.count - 1 { position += 1 }
        return t
    }

    private mutating func parseOr() throws(ExpressionError) -> Condition {
        var parts = [try parseAnd()]
        while peek.isWord("or") { _ = next(); parts.append(try parseAnd()) }
        return parts.count == 1 ? parts[0] : .any(parts)
    }

    private mutating func parseAnd() throws(ExpressionError) -> Condition {
        var parts = [try parseUnary()]
        while peek.isWord("and") { _ = next(); parts.append(try parseUnary()) }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    private mutating func parseUnary() throws(ExpressionError) -> Condition {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw ExpressionError(offset: peek.offset, message: "conditions nest deeper than \(Self.maximumDepth) levels")
        }
        if peek.isWord("not") {
            _ = next()
            return .not(try parseUnary())
        }
        if peek.kind == .leftParen {
            let open = next()
            let inner = try parseOr()
            guard peek.kind == .rightParen else {
                throw ExpressionError(offset: peek.offset, message: "expected ')' to close the '(' at offset \(open.offset + 1); got \(peek.quoted)")
            }
            _ = next()
            return inner
        }
        return try parseTest()
    }

    private mutating func parseTest() throws(ExpressionError) -> Condition {
        let name = next()
        guard name.kind == .word, !["and", "or", "in"].contains(name.text) else {
            throw ExpressionError(offset: name.offset, message: "expected a test such as 'port 557', 'tag OpenVMS' or 'catalog', 'not' or '('; got \(name.quoted)")
        }
        switch name.text {
        case "catalog":
            return .catalog(try requireCatalog(at: name).all)
        case "label":
            let key = next()
            guard key.kind == .word || key.kind == .string, !isKeyword(key) else {
                throw ExpressionError(offset: key.offset, message: "expected a label name after 'label'; got \(key.quoted)")
            }
            return .host(hostTests.index(of: .label(key.text, nil)))
        default:
            break
        }
        guard let field = Field.lookup(name.text) else {
            throw ExpressionError(offset: name.offset, message: "unknown field '\(name.text)'\(suggestion(for: name.text, in: Field.vocabulary)) (fields: \(Field.vocabulary.joined(separator: ", ")))")
        }
        let t = peek
        switch t.kind {
        case .op(let op):
            _ = next()
            return try build(field, name, op, try parseOperand(after: t))
        case .word where t.text == "in":
            _ = next()
            return try build(field, name, .in, try parseOperand(after: t))
        case .word where t.text == "not" && tokens[position + 1].isWord("in"):
            _ = next(); let inWord = next()
            return .not(try build(field, name, .in, try parseOperand(after: inWord)))
        case .word where !isKeyword(t), .string, .leftBracket:
            return try build(field, name, .matches, try parseOperand(after: name))
        default:
            throw ExpressionError(offset: t.offset, message: "expected an operator (==, !=, ~, !~, <, <=, >, >=, in, not in) or a value after '\(name.text)'; got \(t.quoted)")
        }
    }

    private func isKeyword(_ t: Token) -> Bool {
        t.kind == .word && ["and", "or", "not", "in"].contains(t.text)
    }

    /// One value, or a `[…]` list of them.
    private mutating func parseOperand(after previous: Token) throws(ExpressionError) -> Operand {
        if peek.kind == .leftBracket {
            let open = next()
            var items: [Token] = []
            while true {
                let item = next()
                guard (item.kind == .word && !isKeyword(item)) || item.kind == .string else {
                    throw ExpressionError(offset: item.offset, message: "expected a value in the list; got \(item.quoted)")
                }
                items.append(item)
                let separator = next()
                if separator.kind == .rightBracket { break }
                guard separator.kind == .comma else {
                    throw ExpressionError(offset: separator.offset, message: "expected ',' or ']' to close the list opened at offset \(open.offset + 1); got \(separator.quoted)")
                }
            }
            return Operand(items: items, isList: true)
        }
        let value = next()
        guard (value.kind == .word && !isKeyword(value)) || value.kind == .string else {
            throw ExpressionError(offset: value.offset, message: "expected a value after \(previous.quoted); got \(value.quoted)")
        }
        return Operand(items: [value], isList: false)
    }

    private func requireCatalog(at token: Token) throws(ExpressionError) -> LegacyCatalog {
        guard let catalog else {
            throw ExpressionError(offset: token.offset, message: "'\(token.text)' needs the legacy-port catalogue, and no catalog.yaml was loaded")
        }
        return catalog
    }

    // MARK: Building a test from field, operator and values

    struct Operand {
        var items: [Token]
        var isList: Bool
    }

    /// `matches` is the operator-less form (`port 557`, `process.name rpc*`): membership
    /// for numbers and blocks, a pattern for text.
    enum Operator { case compare(Comparison), `in`, matches }

    private mutating func build(_ field: Field, _ name: Token, _ op: Comparison, _ operand: Operand) throws(ExpressionError) -> Condition {
        try build(field, name, .compare(op), operand)
    }

    private mutating func build(_ field: Field, _ name: Token, _ op: Operator, _ operand: Operand) throws(ExpressionError) -> Condition {
        if case .compare(let c) = op, operand.isList, c != .match, c != .notMatch {
            throw ExpressionError(offset: operand.items[0].offset - 1, message: "'\(c.rawValue)' compares with one value; for a list write '\(name.text) in [...]'")
        }
        switch (op, field.kind) {
        case (.compare(.notEqual), _): return .not(try build(field, name, .compare(.equal), operand))
        case (.compare(.notMatch), _): return .not(try build(field, name, .compare(.match), operand))
        case (.compare(let c), .integer(let bounds)) where [.less, .lessOrEqual, .greater, .greaterOrEqual].contains(c):
            let v = try integer(operand.items[0], field: name.text, bounds: bounds)
            let range: ClosedRange<Int> = switch c {
            case .less: bounds.lowerBound...max(bounds.lowerBound, v - 1)
            case .lessOrEqual: bounds.lowerBound...v
            case .greater: min(bounds.upperBound, v + 1)...bounds.upperBound
            default: v...bounds.upperBound
            }
            // `port < 0` and `port > 65535` can never hold.
            if (c == .less && v == bounds.lowerBound) || (c == .greater && v == bounds.upperBound) { return .constant(false) }
            return leaf(field, integers: [range])
        case (.compare(let c), _) where [.less, .lessOrEqual, .greater, .greaterOrEqual].contains(c):
            throw ExpressionError(offset: name.offset, message: "'\(c.rawValue)' compares numbers, and '\(name.text)' is not one (numbers: port, uid, owners)")
        case (.compare(.match), .integer), (.compare(.match), .choice), (.compare(.match), .namespace), (.compare(.match), .address):
            throw ExpressionError(offset: name.offset, message: "'~' matches text patterns, and '\(name.text)' is not text: use '==', 'in' or the value alone")
        default: break
        }
        let exact: Bool = if case .compare(.equal) = op { true } else if case .in = op { true } else { false }
        switch field.kind {
        case .integer(let bounds):
            var ranges: [ClosedRange<Int>] = []
            for item in operand.items { ranges.append(try integerRange(item, field: name.text, bounds: bounds)) }
            return leaf(field, integers: ranges)
        case .choice(let choices):
            var parts: [Condition] = []
            for item in operand.items {
                guard choices.contains(item.text) else {
                    throw ExpressionError(offset: item.offset, message: "'\(name.text)' is one of \(choices.joined(separator: ", ")); got \(item.quoted)\(suggestion(for: item.text, in: choices))")
                }
                parts.append(choiceLeaf(field, item.text))
            }
            return parts.count == 1 ? parts[0] : .any(parts)
        case .namespace:
            var parts: [Condition] = []
            for item in operand.items {
                if item.text == "host" { parts.append(.hostNamespace); continue }
                guard let inode = UInt64(item.text) else {
                    throw ExpressionError(offset: item.offset, message: "'namespace' is 'host' or a namespace inode number; got \(item.quoted)")
                }
                parts.append(.namespaceInode(inode))
            }
            return parts.count == 1 ? parts[0] : .any(parts)
        case .address:
            var networks: [IPNetwork] = []
            for item in operand.items {
                switch IPNetwork.parse(item.text) {
                case .success(let network):
                    if case .compare(.equal) = op, item.text.contains("/") {
                        throw ExpressionError(offset: item.offset, message: "'==' compares one address; for a block write 'address in \(item.text)'")
                    }
                    networks.append(network)
                case .failure(let error):
                    throw ExpressionError(offset: item.offset, message: "expected an address or block such as 10.0.0.0/8 or fe80::/10: \(error.message)")
                }
            }
            return .address(networks)
        case .text:
            var globs: [Glob] = []
            for item in operand.items {
                if exact {
                    if item.text.contains(where: { "*?[".contains($0) }) {
                        warnings.append(ExpressionError(offset: item.offset, message: "'==' and 'in' compare exactly, so \(item.quoted) matches only that text; to match a pattern write '~'"))
                    }
                    globs.append(Glob(literal: item.text, caseInsensitive: field.foldsCase))
                } else {
                    do throws(GlobError) {
                        globs.append(try Glob(item.text, caseInsensitive: field.foldsCase))
                    } catch {
                        let inside = scalarOffset(in: item.text, utf8: error.offset) + (item.kind == .string ? 1 : 0)
                        throw ExpressionError(offset: item.offset + inside, message: error.message)
                    }
                }
            }
            return try textLeaf(field, globs, operand)
        }
    }

    private func leaf(_ field: Field, integers: [ClosedRange<Int>]) -> Condition {
        switch field {
        case .uid: .uid(integers)
        case .owners: .owners(integers)
        default: .port(integers)
        }
    }

    private func choiceLeaf(_ field: Field, _ value: String) -> Condition {
        switch field {
        case .transport: .transport(Transport(rawValue: value)!)
        case .family: .family(AddressFamily(rawValue: value)!)
        case .scope: .scope(ExposureScope(rawValue: value)!)
        default: .foundBy(Discovery(rawValue: value)!)
        }
    }

    private mutating func textLeaf(_ field: Field, _ globs: [Glob], _ operand: Operand) throws(ExpressionError) -> Condition {
        switch field {
        case .owner(let f): return .owner(f, globs)
        case .hostName: return .host(hostTests.index(of: .name(globs)))
        case .tag:
            if let knownTags {
                for (glob, item) in zip(globs, operand.items) where !knownTags.contains(where: { glob.matches($0) }) {
                    warnings.append(ExpressionError(offset: item.offset, message: "inventory.yaml gives no host the tag \(item.quoted)\(suggestion(for: item.text, in: knownTags.sorted())); only hosts tagged with 'portwarden hosts tag' will match"))
                }
            }
            return .host(hostTests.index(of: .tag(globs)))
        case .label(let key): return .host(hostTests.index(of: .label(key, globs)))
        default:
            // `service` is decided now: the catalogue entries whose name matches.
            let catalog = try requireCatalog(at: operand.items[0])
            var set = PortProtocolSet()
            for (glob, item) in zip(globs, operand.items) {
                let entries = catalog.entries.filter { glob.matches($0.service) }
                guard !entries.isEmpty else {
                    throw ExpressionError(offset: item.offset, message: "no catalogue entry is named \(item.quoted)\(suggestion(for: item.text, in: catalog.entries.map(\.service)))")
                }
                for e in entries { for t in e.protocols { set.insert(e.port, t) } }
            }
            return .catalog(set)
        }
    }

    private func integer(_ token: Token, field: String, bounds: ClosedRange<Int>) throws(ExpressionError) -> Int {
        guard token.text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let v = Int(token.text) else {
            throw ExpressionError(offset: token.offset, message: "'\(field)' is a number; got \(token.quoted)")
        }
        guard bounds.contains(v) else {
            throw ExpressionError(offset: token.offset, message: "\(token.text) is out of range for '\(field)' (\(bounds.lowerBound)-\(bounds.upperBound))")
        }
        return v
    }

    /// `557` or `512..514`.
    private func integerRange(_ token: Token, field: String, bounds: ClosedRange<Int>) throws(ExpressionError) -> ClosedRange<Int> {
        guard let dots = token.text.range(of: "..") else {
            let v = try integer(token, field: field, bounds: bounds)
            return v...v
        }
        let lowText = String(token.text[..<dots.lowerBound]), highText = String(token.text[dots.upperBound...])
        let low = try integer(Token(kind: token.kind, text: lowText, offset: token.offset), field: field, bounds: bounds)
        let high = try integer(Token(kind: token.kind, text: highText, offset: token.offset + lowText.unicodeScalars.count + 2), field: field, bounds: bounds)
        guard low <= high else {
            throw ExpressionError(offset: token.offset, message: "the range \(token.text) runs backwards: write \(high)..\(low)")
        }
        return low...high
    }
}
