/// The bytes the grammar turns on.
enum Byte {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let dash = UInt8(ascii: "-")
    static let newline = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    static let hash = UInt8(ascii: "#")
    static let colon = UInt8(ascii: ":")
    static let comma = UInt8(ascii: ",")
    static let doubleQuote = UInt8(ascii: "\"")
    static let singleQuote = UInt8(ascii: "'")
    static let backslash = UInt8(ascii: "\\")
    static let openBrace = UInt8(ascii: "{")
    static let closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "[")
    static let closeBracket = UInt8(ascii: "]")
}

/// One line's (or one value's) lexing: comments, keys, scalars, flow collections.
extension ConfigDocument {
    static func isBlank(_ byte: UInt8) -> Bool { byte == Byte.space || byte == Byte.tab }

    static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57) || byte == 95 || byte == 45
    }

    /// Where a comment starts, and whether a quote or a flow collection is still open at
    /// the end. Only where a scalar starts (at the start, after `: `, `- `, `,`, `{` or
    /// `[`) does a quote open a quoted scalar or a bracket a flow collection; anywhere else
    /// they are text of a plain scalar — `note: a[b`, `it's`, `x, 'b` — as YAML reads
    /// them (PyYAML writes such values unquoted). A plain scalar runs to `: ` (it was a
    /// key) or, inside a flow collection, to `,`, `]` or `}`. `#` starts a comment at the
    /// start or after a blank, outside quotes.
    static func scan(_ bytes: ArraySlice<UInt8>) -> (comment: Int?, open: Bool) {
        var quote: UInt8?
        var plain = false
        var depth = 0
        var previous: UInt8?  // the last structural byte outside scalars (`:`, `-`, `,`, brackets)
        var index = bytes.startIndex
        func followedByBlank(_ at: Int) -> Bool { at + 1 == bytes.endIndex || isBlank(bytes[at + 1]) }
        while index < bytes.endIndex {
            defer { index += 1 }
            let byte = bytes[index]
            if let open = quote {
                if open == Byte.doubleQuote && byte == Byte.backslash {
                    index += 1
                } else if byte == open {
                    if open == Byte.singleQuote, index + 1 < bytes.endIndex, bytes[index + 1] == Byte.singleQuote {
                        index += 1
                    } else {
                        quote = nil
                        previous = byte
                    }
                }
                continue
            }
            if byte == Byte.hash && (index == bytes.startIndex || isBlank(bytes[index - 1])) { return (index, depth > 0) }
            if plain {
                let endsKey = byte == Byte.colon && followedByBlank(index)
                let endsItem = depth > 0 && [Byte.comma, Byte.closeBrace, Byte.closeBracket].contains(byte)
                guard endsKey || endsItem else { continue }
                plain = false
            }
            if isBlank(byte) { continue }
            let startsScalar = [nil, Byte.colon, Byte.dash, Byte.comma, Byte.openBrace, Byte.openBracket].contains(previous)
            switch byte {
            case Byte.doubleQuote where startsScalar, Byte.singleQuote where startsScalar:
                quote = byte
            case Byte.openBrace where startsScalar, Byte.openBracket where startsScalar:
                depth += 1
                previous = byte
            case Byte.closeBrace where depth > 0, Byte.closeBracket where depth > 0:
                depth -= 1
                previous = byte
            case Byte.colon, Byte.comma:
                previous = byte
            case Byte.dash where startsScalar && followedByBlank(index):
                previous = byte  // a list item's `- `
            default:
                plain = startsScalar
                previous = byte
            }
        }
        return (nil, quote != nil || depth > 0)
    }

    static func isOpen(_ bytes: [UInt8]) -> Bool { scan(bytes[...]).open }

    /// The line from `start` without its comment and trailing blanks.
    static func stripComment(_ line: [UInt8], from start: Int, fail: (Int, String) -> ConfigError) throws(ConfigError) -> ArraySlice<UInt8> {
        var end = scan(line[start...]).comment ?? line.count
        while end > start, isBlank(line[end - 1]) { end -= 1 }
        return line[start..<end]
    }

    /// The colon that ends a plain key: the first `:` followed by a blank or the line's end.
    static func keyColon(_ content: [UInt8]) -> Int? {
        content.indices.first { content[$0] == Byte.colon && ($0 + 1 == content.count || isBlank(content[$0 + 1])) }
    }

    /// Whether the value on this line (after `- ` or `key:`) is a plain scalar, which a
    /// more-indented line may continue.
    static func isPlain(valueOf content: [UInt8]) -> Bool {
        let value: ArraySlice<UInt8>
        if content.first == Byte.dash && (content.count == 1 || isBlank(content[1])) {
            value = content.dropFirst()
        } else if let colon = keyColon(content) {
            value = content[(colon + 1)...]
        } else {
            return false
        }
        guard let first = value.first(where: { !isBlank($0) }) else { return false }
        return !Array("\"'{[&*!|>".utf8).contains(first)
    }

    /// The key at the start of `content` (plain, or quoted as Ruby and Python quote keys
    /// like `'on'`) and the index of its colon.
    static func key(_ content: [UInt8], column: Int, fail: (Int, String) -> ConfigError) throws(ConfigError) -> (String, Int) {
        let key: String, colon: Int
        if content.first == Byte.doubleQuote || content.first == Byte.singleQuote {
            let (text, end) = try quoted(content[...], column: column, fail: fail)
            guard end < content.count, content[end] == Byte.colon, end + 1 == content.count || isBlank(content[end + 1]) else {
                throw fail(column, "expected \"key: value\"")
            }
            (key, colon) = (text, end)
        } else {
            guard let found = keyColon(content) else { throw fail(column, "expected \"key: value\"") }
            (key, colon) = (String(decoding: content[..<found], as: UTF8.self).trimmingBlanks, found)
        }
        try checkKey(key, column: column, fail: fail)
        return (key, colon)
    }

    static func checkKey(_ key: String, column: Int, fail: (Int, String) -> ConfigError) throws(ConfigError) {
        if key.hasPrefix(":") {
            throw fail(column, "\"\(key)\" is a Ruby symbol key: write plain keys (e.g. the hash's keys as strings: transform_keys(&:to_s))")
        }
        guard !key.isEmpty, key.utf8.allSatisfy(isKeyByte) else {
            throw fail(column, "a key is letters, digits, \"_\" and \"-\"; got \"\(key)\"")
        }
    }

    /// One scalar: plain, 'single' ('' is a quote) or "double" (YAML's escapes); nil for
    /// YAML's null (`null`, `~`, or nothing).
    static func scalar(_ raw: [UInt8], column: Int, fail: (Int, String) -> ConfigError) throws(ConfigError) -> String? {
        let bytes = raw.drop(while: isBlank)
        let column = column + (raw.count - bytes.count)
        guard let first = bytes.first else { return nil }
        switch first {
        case Byte.doubleQuote, Byte.singleQuote:
            let (value, end) = try quoted(bytes, column: column, fail: fail)
            guard bytes[end...].allSatisfy(isBlank) else { throw fail(column + end - bytes.startIndex, "unexpected text after the closing quote") }
            return value
        case Byte.openBracket, Byte.openBrace:
            throw fail(column, "a list or mapping in […] or {…} is not read here: write one \"- item\" or \"key: value\" per line"
                       + addressHint(bytes))
        case UInt8(ascii: "&"), UInt8(ascii: "*"):
            throw fail(column, "YAML anchors and aliases are not read here: write the value itself")
        case UInt8(ascii: "!"):
            throw fail(column, "YAML tags (\(String(decoding: bytes.prefix { !isBlank($0) }, as: UTF8.self))) are not read here: "
                + "write plain values (Chef: dump node attributes with .to_hash first, so no Ruby class is named)")
        case UInt8(ascii: "|"), UInt8(ascii: ">"):
            throw fail(column, "multi-line values (| or >) are not read here: write the value on one line")
        default:
            let text = String(decoding: bytes, as: UTF8.self).trimmingBlanks
            return ["~", "null", "Null", "NULL"].contains(text) ? nil : text
        }
    }

    /// The quoted scalar starting at `bytes.startIndex`, and the index after its closing quote.
    static func quoted(_ bytes: ArraySlice<UInt8>, column: Int, fail: (Int, String) -> ConfigError) throws(ConfigError) -> (String, Int) {
        let quote = bytes[bytes.startIndex]
        var value: [UInt8] = []
        var index = bytes.startIndex + 1
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == quote {
                if quote == Byte.singleQuote, index + 1 < bytes.endIndex, bytes[index + 1] == quote {
                    value.append(quote)
                    index += 2
                    continue
                }
                return (String(decoding: value, as: UTF8.self), index + 1)
            }
            if quote == Byte.doubleQuote, byte == Byte.backslash, index + 1 < bytes.endIndex {
                index += 1
                guard let escaped = try unescape(bytes, at: &index, column: column + index - bytes.startIndex, fail: fail) else {
                    throw fail(column + index - bytes.startIndex - 1, "unknown escape \"\\\(UnicodeScalar(bytes[index]))\"")
                }
                value += escaped
            } else {
                value.append(byte)
            }
            index += 1
        }
        throw fail(column, "the quoted value is not closed")
    }

    /// The escape at `index` (just after its backslash) in UTF-8, leaving `index` on its
    /// last byte: YAML's single-letter escapes and \xNN, \uNNNN, \UNNNNNNNN.
    private static func unescape(_ bytes: ArraySlice<UInt8>, at index: inout Int, column: Int,
                                 fail: (Int, String) -> ConfigError) throws(ConfigError) -> [UInt8]? {
        let simple: [UInt8: UInt32] = [
            UInt8(ascii: "0"): 0, UInt8(ascii: "a"): 7, UInt8(ascii: "b"): 8, UInt8(ascii: "t"): 9, Byte.tab: 9, UInt8(ascii: "n"): 10,
            UInt8(ascii: "v"): 11, UInt8(ascii: "f"): 12, UInt8(ascii: "r"): 13, UInt8(ascii: "e"): 27, Byte.space: 32,
            Byte.doubleQuote: 34, UInt8(ascii: "/"): 47, Byte.backslash: 92, UInt8(ascii: "N"): 0x85, UInt8(ascii: "_"): 0xA0,
            UInt8(ascii: "L"): 0x2028, UInt8(ascii: "P"): 0x2029,
        ]
        let letter = bytes[index]
        var code: UInt32
        if let known = simple[letter] {
            code = known
        } else if let digits = [UInt8(ascii: "x"): 2, UInt8(ascii: "u"): 4, UInt8(ascii: "U"): 8][letter] {
            guard index + digits < bytes.endIndex,
                  let number = UInt32(String(decoding: bytes[(index + 1)...(index + digits)], as: UTF8.self), radix: 16) else {
                throw fail(column - 1, "\"\\\(UnicodeScalar(letter))\" takes \(digits) hex digits")
            }
            index += digits
            code = number
        } else {
            return nil
        }
        guard let scalar = Unicode.Scalar(code) else { throw fail(column - 1, "the escape names no character") }
        return Array(String(Character(scalar)).utf8)
    }

    /// A flow collection of scalars, `{a: b, c: d}` or `[a, b]`: each entry's key (nil in
    /// a list), value (nil for null) and where they start.
    static func flow(_ bytes: [UInt8], column: Int, fail: (Int, String) -> ConfigError) throws(ConfigError)
        -> [(key: String?, value: String?, column: Int, valueColumn: Int)]
    {
        let isMap = bytes[0] == Byte.openBrace
        let close = isMap ? Byte.closeBrace : Byte.closeBracket
        var entries: [(key: String?, value: String?, column: Int, valueColumn: Int)] = []
        var index = 1
        func skipBlanks() { while index < bytes.count, isBlank(bytes[index]) { index += 1 } }
        /// One scalar up to `stops` (outside quotes), and where it started.
        func item(stops: Set<UInt8>) throws(ConfigError) -> (String?, Int) {
            skipBlanks()
            let start = index
            guard index < bytes.count else { throw fail(column, "\(isMap ? "{" : "[") is not closed") }
            if bytes[index] == Byte.doubleQuote || bytes[index] == Byte.singleQuote {
                let (text, end) = try quoted(bytes[index...], column: column + index, fail: fail)
                index = end
                return (text, start)
            }
            if bytes[index] == Byte.openBrace || bytes[index] == Byte.openBracket {
                throw fail(column + index, "a {…} or […] inside another is not read here: write the outer one as \"key: value\" lines")
            }
            // A key's colon is one followed by a blank, a comma, the close or nothing: `host:8443` is one value.
            while index < bytes.count, !stops.contains(bytes[index]) || bytes[index] == Byte.colon && index + 1 < bytes.count
                    && !isBlank(bytes[index + 1]) && bytes[index + 1] != Byte.comma && bytes[index + 1] != close {
                index += 1
            }
            return (try scalar(Array(bytes[start..<index]), column: column + start, fail: fail), start)
        }
        while true {
            skipBlanks()
            guard index < bytes.count else { throw fail(column, "\(isMap ? "{" : "[") is not closed") }
            if bytes[index] == close { break }
            if isMap {
                let (key, keyStart) = try item(stops: [Byte.colon, Byte.comma, close])
                try checkKey(key ?? "", column: column + keyStart, fail: fail)
                skipBlanks()
                guard index < bytes.count, bytes[index] == Byte.colon else { throw fail(column + keyStart, "expected \"key: value\" in {…}") }
                index += 1
                let (value, valueStart) = try item(stops: [Byte.comma, close])
                entries.append((key, value, column + keyStart, column + valueStart))
            } else {
                let (value, valueStart) = try item(stops: [Byte.comma, close])
                entries.append((nil, value, column + valueStart, column + valueStart))
            }
            skipBlanks()
            guard index < bytes.count else { throw fail(column, "\(isMap ? "{" : "[") is not closed") }
            if bytes[index] == Byte.comma { index += 1 } else if bytes[index] != close {
                throw fail(column + index, "expected \",\" or \"\(UnicodeScalar(close))\"")
            }
        }
        guard bytes[(index + 1)...].allSatisfy(isBlank) else {
            throw fail(column + index + 1, "unexpected text after \"\(UnicodeScalar(close))\"" + addressHint(bytes[...]))
        }
        return entries
    }

    /// For `[2001:db8::1]:8443` written unquoted (YAML reads a list, then text): say to quote it.
    static func addressHint(_ bytes: ArraySlice<UInt8>) -> String {
        let text = String(decoding: bytes, as: UTF8.self).trimmingBlanks
        guard text.hasPrefix("["), let close = text.firstIndex(of: "]"), text[close...].dropFirst().first == ":",
              text[close...].dropFirst(2).allSatisfy(\.isNumber) else { return "" }
        return " (an IPv6 address with a port is quoted: \"\(text.prefix(64))\")"
    }
}

extension String {
    var trimmingBlanks: String {
        String(self.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
