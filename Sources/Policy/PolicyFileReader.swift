import Foundation
import Yams

/// One YAML policy file being read: its nodes, and every problem found in it with the
/// line and column to fix. Nothing here throws; problems are collected, so one run of
/// `policy check` shows them all.
final class PolicyFileReader {
    let path: String
    let text: String
    private(set) var diagnostics: [Diagnostic] = []
    private lazy var lines: [[Unicode.Scalar]] = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }

    init(path: String, text: String) {
        self.path = path
        self.text = text
    }

    /// The document, or nil after reporting why YAML could not read it.
    func root() -> Node? {
        do {
            return try compose(yaml: text)
        } catch let error as YamlError {
            report(error)
        } catch {
            self.error("cannot read YAML: \(error)", line: 1, column: 1)
        }
        return nil
    }

    private func report(_ error: YamlError) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text) at \($0.mark.line):\($0.mark.column))" } ?? ""
            self.error("YAML: \(problem)\(while_)", line: mark.line, column: mark.column)
        case .reader(let problem, let offset, _, _):
            let (line, column) = position(ofCharacter: offset ?? 0)
            self.error("YAML: \(problem)", line: line, column: column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            self.error("the key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) appears twice in one mapping", line: context.mark.line, column: context.mark.column)
        default:
            self.error("YAML: \(error)", line: 1, column: 1)
        }
    }

    /// Line and column of the `offset`th character, lines broken where libyaml breaks them
    /// (\n, \r, \r\n, NEL, LS, PS): a file saved with CR line ends is not all one line.
    private func position(ofCharacter offset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for c in text.prefix(offset) {
            if ["\n", "\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}"].contains(c) { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    func error(_ message: String, line: Int, column: Int) {
        diagnostics.append(Diagnostic(.error, file: path, line: max(1, line), column: max(1, column), message: message))
    }

    func error(_ message: String, at node: Node?) {
        let mark = node?.mark
        error(message, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    func warning(_ message: String, at node: Node?) {
        let mark = node?.mark
        diagnostics.append(Diagnostic(.warning, file: path, line: mark?.line ?? 1, column: mark?.column ?? 1, message: message))
    }

    func location(of node: Node) -> SourceLocation {
        SourceLocation(file: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1)
    }

    /// A problem at `offset` (in Unicode scalars) inside a scalar's value, e.g. a condition.
    func report(_ level: Diagnostic.Level, _ message: String, in node: Node, offset: Int) {
        let (line, column) = position(in: node, offset: offset)
        diagnostics.append(Diagnostic(level, file: path, line: line, column: column, message: message))
    }

    /// Maps an offset inside a scalar's value back to the file. The value and its source
    /// text are walked together: the opening quote, a block header, indentation and line
    /// folds appear only in the source and are stepped over. Falls back to the scalar's start.
    func position(in node: Node, offset: Int) -> (line: Int, column: Int) {
        guard let scalar = node.scalar, let mark = scalar.mark else { return (node.mark?.line ?? 1, node.mark?.column ?? 1) }
        let value = Array(scalar.string.unicodeScalars)
        var line = mark.line - 1, column = mark.column - 1
        switch scalar.style {
        case .singleQuoted, .doubleQuoted: column += 1
        case .literal, .folded: line += 1; column = 0
        default: break
        }
        func current() -> Unicode.Scalar? {
            guard line < lines.count else { return nil }
            return column < lines[line].count ? lines[line][column] : "\n"
        }
        func advance() {
            if column < lines[line].count { column += 1 } else { line += 1; column = 0 }
        }
        var k = 0, steps = 0
        while k < min(offset, value.count) {
            guard let raw = current(), steps < 100_000 else { return (mark.line, mark.column) }
            steps += 1
            if raw == value[k] {
                advance(); k += 1
            } else if value[k] == " " || value[k] == "\n" {
                // A fold: the value's one space or newline stands for a line break and indentation.
                while let r = current(), r == " " || r == "\t" || r == "\n" { advance() }
                k += 1
            } else {
                advance()
            }
        }
        while let r = current(), r == " " || r == "\t", k == 0, scalar.style == .literal || scalar.style == .folded { advance() }
        return (line + 1, column + 1)
    }
}

/// The keys of one YAML mapping, checked against the ones a kind of entry may have.
struct Fields {
    let reader: PolicyFileReader
    let node: Node
    let what: String
    private var values: [String: Node] = [:]

    /// nil after reporting, when `node` is not a mapping. Unknown keys are reported with
    /// the nearest valid one.
    init?(_ node: Node, _ what: String, allowed: [String], reader: PolicyFileReader) {
        self.reader = reader
        self.node = node
        self.what = what
        guard let mapping = node.mapping else {
            reader.error("expected \(what) as a mapping (\(allowed.joined(separator: ", "))); got \(describe(node))", at: node)
            return nil
        }
        for (key, value) in mapping {
            guard let name = key.scalar?.string else {
                reader.error("expected a field name in \(what); got \(describe(key))", at: key)
                continue
            }
            guard allowed.contains(name) else {
                reader.error("unknown field '\(name)' in \(what)\(suggestion(for: name, in: allowed)) (fields: \(allowed.joined(separator: ", ")))", at: key)
                continue
            }
            values[name] = value
        }
    }

    subscript(key: String) -> Node? { values[key] }

    /// A required or optional single value; reports a list or mapping, and a missing required one.
    func scalar(_ key: String, required: Bool, hint: String) -> Node? {
        guard let value = values[key] else {
            if required { reader.error("\(what) needs '\(key)' (\(hint))", at: node) }
            return nil
        }
        guard let scalar = value.scalar else {
            reader.error("'\(key)' takes one value (\(hint)); got \(describe(value))", at: value)
            return nil
        }
        if required, scalar.string.trimmingCharacters(in: .whitespaces).isEmpty, scalar.style == .plain || scalar.string.isEmpty {
            reader.error("'\(key)' is empty: expected \(hint)", at: value)
            return nil
        }
        return value
    }

    func string(_ key: String, required: Bool, hint: String) -> String? {
        scalar(key, required: required, hint: hint)?.scalar?.string
    }

    /// A list; a single value is accepted as a list of one.
    func list(_ key: String, required: Bool, hint: String) -> [Node]? {
        guard let value = values[key] else {
            if required { reader.error("\(what) needs '\(key)' (\(hint))", at: node) }
            return nil
        }
        if let sequence = value.sequence { return Array(sequence) }
        if value.scalar != nil { return [value] }
        reader.error("'\(key)' takes a list (\(hint)); got \(describe(value))", at: value)
        return nil
    }
}

func describe(_ node: Node) -> String {
    switch node {
    case .scalar(let s): s.string.isEmpty ? "nothing" : "'\(s.string)'"
    case .mapping: "a mapping"
    case .sequence: "a list"
    case .alias: "an alias"
    }
}

/// Reads the top of a policy file: a mapping with one list under `key`.
func topList(_ reader: PolicyFileReader, key: String, what: String) -> [Node]? {
    guard let root = reader.root() else { return nil }
    if case .scalar(let s) = root, s.string.isEmpty { return [] }
    let before = reader.diagnostics.count
    guard let fields = Fields(root, "the top of \(what)", allowed: [key], reader: reader) else { return nil }
    guard let value = fields[key] else {
        // A misspelt key was just reported with the right name; saying it is missing too adds nothing.
        if reader.diagnostics.count > before { return nil }
        reader.error("\(what) needs '\(key):' at the top, holding a list", at: root)
        return nil
    }
    if case .scalar(let s) = value, s.string.isEmpty || ["~", "null", "Null", "NULL"].contains(s.string) { return [] }
    return fields.list(key, required: true, hint: "a list of entries")
}
