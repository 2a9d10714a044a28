import StateFiles

/// A configuration file in the small part of YAML that portwarden's configs use: nested
/// block mappings, block sequences of scalars, plain or quoted scalars and comments.
/// Anything else (flow collections, anchors, tags, multi-line scalars) is refused with
/// its position rather than half-understood, so a config means what it says.
///
/// Keys are addressed by their dotted path: `spool.max_count`.
public struct ConfigDocument: Sendable {
    public let file: String
    /// Every scalar value by dotted key.
    public private(set) var scalars: [String: (value: String, at: ConfigPosition)] = [:]
    /// Every sequence by dotted key, item by item.
    public private(set) var sequences: [String: [(value: String, at: ConfigPosition)]] = [:]
    /// Every key, leaves and mappings alike, where it was written.
    public private(set) var keys: [String: ConfigPosition] = [:]

    /// Reads and parses `path`.
    public init(path: String) throws(ConfigError) {
        let text: String
        do { text = try StateFile.read(path) } catch {
            throw ConfigError(file: path, line: 0, column: 0, message: "cannot read the file: \(error.reason)")
        }
        try self.init(text: text, file: path)
    }

    public init(text: String, file: String) throws(ConfigError) {
        self.file = file
        // Open mappings and sequences, innermost last: the indentation each one's
        // entries sit at (nil until its first entry fixes it) and its dotted path.
        var open: [(indent: Int?, path: String, isSequence: Bool)] = [(0, "", false)]
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Array((rawLine.utf8.last == 13 ? rawLine.dropLast() : rawLine).utf8)
            func fail(_ column: Int, _ message: String) -> ConfigError {
                ConfigError(file: file, line: lineNumber, column: column + 1, message: message)
            }
            var indent = 0
            while indent < line.count, line[indent] == Byte.space { indent += 1 }
            if indent < line.count, line[indent] == Byte.tab { throw fail(indent, "indent with spaces, not tabs") }
            // Columns below count from `indent`: content[i] is at column indent + i.
            let content = Array(try Self.stripComment(line, from: indent, fail: fail))
            if content.isEmpty { continue }
            if keys.isEmpty, content == Array("---".utf8) { continue }

            // Close what this line's indentation leaves.
            while let top = open.last, let topIndent = top.indent, indent < topIndent { open.removeLast() }
            guard var top = open.last else { throw fail(indent, "indentation does not match any enclosing key") }
            if top.indent == nil {
                let parentIndent = open.count > 1 ? open[open.count - 2].indent ?? 0 : -1
                guard indent > parentIndent || top.isSequence && indent == parentIndent else {
                    throw fail(indent, "\"\(top.path)\" has no value: give one after the colon, or indent its entries")
                }
                top.indent = indent
                open[open.count - 1] = top
            } else if indent != top.indent {
                throw fail(indent, "indentation does not match any enclosing key")
            }

            if content.first == Byte.dash && (content.count == 1 || content[1] == Byte.space) {
                guard top.isSequence else { throw fail(indent, "a list item here, but \"\(top.path)\" is not a list") }
                let valueStart = indent + 1 + Self.leadingSpaces(content.dropFirst())
                let value = try Self.scalar(Array(content.dropFirst()), column: valueStart, fail: fail)
                sequences[top.path, default: []].append((value, ConfigPosition(line: lineNumber, column: valueStart + 1)))
                continue
            }
            guard !top.isSequence else { throw fail(indent, "expected a list item (\"- value\") under \"\(top.path)\"") }
            guard let colon = Self.keyColon(content) else {
                throw fail(indent, "expected \"key: value\"")
            }
            let key = String(decoding: content[..<colon], as: UTF8.self).trimmingSpaces
            guard !key.isEmpty, key.utf8.allSatisfy({ Self.isKeyByte($0) }) else {
                throw fail(indent, "a key is letters, digits, \"_\" and \"-\"; got \"\(key)\"")
            }
            let path = top.path.isEmpty ? key : top.path + "." + key
            let position = ConfigPosition(line: lineNumber, column: indent + 1)
            if let earlier = keys[path] { throw fail(indent, "\"\(path)\" is already set on line \(earlier.line)") }
            keys[path] = position
            let rest = Array(content[(colon + 1)...])
            let valueColumn = indent + colon + 1 + Self.leadingSpaces(rest[...])
            if rest.allSatisfy({ $0 == Byte.space }) {
                // A nested mapping or a list follows; which one, its first line says.
                let next = Self.nextContent(text: text, after: lineNumber)
                open.append((nil, path, next?.first == "-"))
            } else {
                scalars[path] = (try Self.scalar(rest, column: valueColumn, fail: fail),
                                 ConfigPosition(line: lineNumber, column: valueColumn + 1))
            }
        }
    }

    // MARK: - Lexing one line

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57) || byte == 95 || byte == 45
    }

    private static func leadingSpaces(_ bytes: ArraySlice<UInt8>) -> Int { bytes.prefix { $0 == Byte.space }.count }

    /// The line from `start` without its comment and trailing spaces. A `#` starts a
    /// comment at the line's start or after a space, outside quotes.
    private static func stripComment(_ line: [UInt8], from start: Int, fail: (Int, String) -> ConfigError) throws(ConfigError) -> ArraySlice<UInt8> {
        var quote: UInt8?
        var end = line.count
        var index = start
        while index < line.count {
            let byte = line[index]
            if let open = quote {
                if byte == open { quote = nil }
                else if byte == UInt8(ascii: "\\") && open == UInt8(ascii: "\"") { index += 1 }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: "#") && (index == start || line[index - 1] == Byte.space) {
                end = index
                break
            }
            index += 1
        }
        while end > start, line[end - 1] == Byte.space { end -= 1 }
        return line[start..<end]
    }

    /// The colon that ends the key: the first `:` followed by a space or the line's end.
    private static func keyColon(_ content: [UInt8]) -> Int? {
        content.indices.first { content[$0] == UInt8(ascii: ":") && ($0 + 1 == content.count || content[$0 + 1] == Byte.space) }
    }

    /// One scalar: plain, 'single' ('' is a quote) or "double" (\" \\ \n \t escapes).
    private static func scalar(_ raw: [UInt8], column: Int, fail: (Int, String) -> ConfigError) throws(ConfigError) -> String {
        let bytes = raw.drop { $0 == Byte.space }
        guard let first = bytes.first else { return "" }
        switch first {
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            var value: [UInt8] = []
            var index = bytes.index(after: bytes.startIndex)
            while index < bytes.endIndex {
                let byte = bytes[index]
                if byte == first {
                    if first == UInt8(ascii: "'"), index + 1 < bytes.endIndex, bytes[index + 1] == first {
                        value.append(first)
                        index += 2
                        continue
                    }
                    guard index + 1 == bytes.endIndex else { throw fail(column + index - bytes.startIndex + 1, "unexpected text after the closing quote") }
                    return String(decoding: value, as: UTF8.self)
                }
                if first == UInt8(ascii: "\""), byte == UInt8(ascii: "\\"), index + 1 < bytes.endIndex {
                    index += 1
                    switch bytes[index] {
                    case UInt8(ascii: "n"): value.append(10)
                    case UInt8(ascii: "t"): value.append(9)
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): value.append(bytes[index])
                    default: throw fail(column + index - bytes.startIndex, "unknown escape \"\\\(UnicodeScalar(bytes[index]))\"")
                    }
                } else {
                    value.append(byte)
                }
                index += 1
            }
            throw fail(column, "the quoted value is not closed on this line")
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            throw fail(column, "flow-style lists and mappings are not supported here: write one \"- item\" or \"key: value\" per line")
        case UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"):
            throw fail(column, "YAML anchors, aliases and tags are not supported here")
        case UInt8(ascii: "|"), UInt8(ascii: ">"):
            throw fail(column, "multi-line values are not supported here")
        default:
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// The first non-blank, non-comment content after line `lineNumber` (1-based).
    private static func nextContent(text: String, after lineNumber: Int) -> Substring? {
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(lineNumber) {
            let trimmed = line.drop { $0 == " " }
            if !trimmed.isEmpty && !trimmed.hasPrefix("#") && trimmed != "\r" { return trimmed }
        }
        return nil
    }
}

/// The bytes the grammar turns on.
enum Byte {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let dash = UInt8(ascii: "-")
}

extension String {
    var trimmingSpaces: String {
        String(self.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
