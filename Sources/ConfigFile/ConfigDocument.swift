import StateFiles

/// A configuration file in the part of YAML that portwarden's configs use, and that
/// configuration-management tools write for them (Ansible's `to_yaml`/`to_nice_yaml`,
/// Puppet's and Chef's Ruby `to_yaml`): nested block mappings, block sequences of scalars,
/// flow collections of scalars (`{a: b}`, `[a, b]`, `{}`), plain or quoted scalars (also
/// over several lines), `null`/`~`/nothing for "not set", comments, `---` and `...`, CRLF.
/// Anything else (anchors, tags, block scalars, nested flow collections) is refused with
/// its position and what to write instead, rather than half-understood.
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
    /// Keys written without a value (`key:`, `key: null`, `key: ~`): read as not set.
    public private(set) var nulls: Set<String> = []

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
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // a byte-order mark (Windows editors)
        let lines = bytes.split(separator: Byte.newline, omittingEmptySubsequences: false).map { Array($0.last == Byte.cr ? $0.dropLast() : $0) }
        // Open mappings and sequences, innermost last: the indentation each one's
        // entries sit at (nil until its first entry fixes it) and its dotted path.
        var open: [(indent: Int?, path: String, isSequence: Bool)] = [(0, "", false)]
        var ended: Int?
        var index = 0
        while index < lines.count {
            let lineNumber = index + 1
            let line = lines[index]
            index += 1
            func fail(_ column: Int, _ message: String) -> ConfigError {
                ConfigError(file: file, line: lineNumber, column: column + 1, message: message)
            }
            var indent = 0
            while indent < line.count, line[indent] == Byte.space { indent += 1 }
            if indent < line.count, line[indent] == Byte.tab {
                throw fail(indent, "indent with spaces, not tabs (YAML does not allow tabs in indentation)")
            }
            // Columns below count from `indent`: content[i] is at column indent + i.
            var content = Array(try Self.stripComment(line, from: indent, fail: fail))
            if content.isEmpty { continue }
            if let ended { throw fail(indent, "text after the document's end (\"...\" on line \(ended)): remove one or the other") }
            if indent == 0, content.starts(with: Array("---".utf8)), content.count == 3 || Self.isBlank(content[3]) {
                guard keys.isEmpty else { throw fail(0, "a second YAML document (\"---\"): give one document per file") }
                // Ruby writes an empty hash as `--- {}`.
                let rest = content.dropFirst(3).drop(while: Self.isBlank)
                guard rest.isEmpty || Array(rest) == Array("{}".utf8) else {
                    throw fail(3 + content.dropFirst(3).prefix(while: Self.isBlank).count, "write the settings on the lines after \"---\"")
                }
                continue
            }
            if indent == 0, content == Array("...".utf8) {
                ended = lineNumber
                continue
            }

            // Close what this line's indentation leaves — and a list written level with its
            // key (`key:` then `- item`, as PyYAML and Ruby write it) at the next key.
            let isItem = content.first == Byte.dash && (content.count == 1 || Self.isBlank(content[1]))
            while let top = open.last, let topIndent = top.indent,
                  indent < topIndent || top.isSequence && !isItem && indent == topIndent && open[open.count - 2].indent == topIndent {
                open.removeLast()
            }
            guard var top = open.last else { throw fail(indent, "indentation does not match any enclosing key: indent it as the keys beside it, with spaces") }
            if top.indent == nil {
                let parentIndent = open.count > 1 ? open[open.count - 2].indent ?? 0 : -1
                guard indent > parentIndent || top.isSequence && indent == parentIndent else {
                    throw fail(indent, "indentation does not match any enclosing key: indent it as the keys beside it, with spaces")
                }
                top.indent = indent
                open[open.count - 1] = top
            } else if indent != top.indent {
                throw fail(indent, "indentation does not match any enclosing key: indent it as the keys beside it, with spaces")
            }

            if isItem {
                guard top.isSequence else { throw fail(indent, "a list item here, but \"\(top.path)\" is not a list") }
                let valueStart = indent + 1 + content.dropFirst().prefix(while: Self.isBlank).count
                index = try Self.continue(&content, lines: lines, from: index, indent: indent, fail: fail)
                let value = try Self.scalar(Array(content.dropFirst()), column: indent + 1, fail: fail)  // scalar() skips the blanks
                sequences[top.path, default: []].append((value ?? "", ConfigPosition(line: lineNumber, column: valueStart + 1)))
                continue
            }
            guard !top.isSequence else { throw fail(indent, "expected a list item (\"- value\") under \"\(top.path)\"") }
            let (key, colon) = try Self.key(content, column: indent, fail: fail)
            let path = top.path.isEmpty ? key : top.path + "." + key
            let position = ConfigPosition(line: lineNumber, column: indent + 1)
            if let earlier = keys[path] { throw fail(indent, "\"\(path)\" is already set on line \(earlier.line)") }
            keys[path] = position
            if content[(colon + 1)...].allSatisfy(Self.isBlank) {
                // A nested mapping or a list follows, which one its first line says; or
                // nothing does, and the key is set to nothing (`key:` is YAML's null).
                if let next = Self.nextContent(lines, from: index), next.indent > indent || next.isItem && next.indent == indent {
                    open.append((nil, path, next.isItem))
                } else {
                    nulls.insert(path)
                }
                continue
            }
            index = try Self.continue(&content, lines: lines, from: index, indent: indent, fail: fail)
            let rest = Array(content[(colon + 1)...])
            let valueColumn = indent + colon + 1 + rest.prefix(while: Self.isBlank).count
            let value = Array(rest.drop(while: Self.isBlank))
            if value.first == Byte.openBrace || value.first == Byte.openBracket {
                try addFlow(value, at: path, line: lineNumber, column: valueColumn, fail: fail)
            } else if let scalar = try Self.scalar(value, column: valueColumn, fail: fail) {
                scalars[path] = (scalar, ConfigPosition(line: lineNumber, column: valueColumn + 1))
            } else {
                nulls.insert(path)
            }
        }
    }

    /// A flow collection of scalars as `path`'s entries: `{a: b}` as `path.a`, `[a, b]`
    /// as `path`'s list; `{}` and `[]` as a key set with no entries.
    private mutating func addFlow(_ value: [UInt8], at path: String, line: Int, column: Int,
                                  fail: (Int, String) -> ConfigError) throws(ConfigError) {
        let flow = try Self.flow(value, column: column, fail: fail)
        if value.first == Byte.openBracket {
            sequences[path] = flow.map { ($0.value ?? "", ConfigPosition(line: line, column: $0.column + 1)) }
            return
        }
        for entry in flow {
            guard let key = entry.key else { throw fail(entry.column, "expected \"key: value\" in {…}") }
            let entryPath = path + "." + key
            if keys[entryPath] != nil { throw fail(entry.column, "\"\(entryPath)\" is already set") }
            keys[entryPath] = ConfigPosition(line: line, column: entry.column + 1)
            if let scalar = entry.value {
                scalars[entryPath] = (scalar, ConfigPosition(line: line, column: entry.valueColumn + 1))
            } else {
                nulls.insert(entryPath)
            }
        }
    }

    /// Joins to `content` the lines its value continues on, YAML folding each line break
    /// to a space: while a quote or a flow collection is open, and the more-indented lines
    /// after a plain value (long values wrapped by a tool) that are neither an item nor a
    /// key. The index of the first line not taken.
    private static func `continue`(_ content: inout [UInt8], lines: [[UInt8]], from start: Int, indent: Int,
                                   fail: (Int, String) -> ConfigError) throws(ConfigError) -> Int {
        var index = start
        while index < lines.count {
            // No setting needs a value this long; stopping here keeps a quote left open from
            // rescanning the rest of a large file line by line.
            if content.count > 65_536 {
                throw fail(1, "this value runs on for more than 64 KiB: is a quote or a bracket on this line left open?")
            }
            if isOpen(content) {
                let next = lines[index].drop(while: isBlank)
                if content.reversed().prefix(while: { $0 == Byte.backslash }).count % 2 == 1 {
                    // An escaped line break (a double-quoted value wrapped by PyYAML): joined with nothing.
                    content.removeLast()
                    content += next
                } else if !next.isEmpty {
                    content += [Byte.space] + next
                }
            } else {
                guard isPlain(valueOf: content), let next = nextContent(lines, from: index), next.indent > indent, !next.isItem,
                      keyColon(Array(lines[next.line].dropFirst(next.indent))) == nil else { break }
                index = next.line
                content += [Byte.space] + Array(try stripComment(lines[index], from: next.indent, fail: fail))
            }
            index += 1
        }
        content = Array(try stripComment(content, from: 0, fail: fail))
        return index
    }

    /// The first non-blank, non-comment line from index `start` on: its index, its
    /// indentation, and whether it is a list item.
    private static func nextContent(_ lines: [[UInt8]], from start: Int) -> (line: Int, indent: Int, isItem: Bool)? {
        for index in start..<lines.count {
            let line = lines[index]
            let indent = line.prefix { $0 == Byte.space }.count
            let rest = line.dropFirst(indent)
            guard let first = rest.first, first != Byte.hash, !rest.allSatisfy(isBlank) else { continue }
            return (index, indent, first == Byte.dash && (rest.count == 1 || isBlank(rest[rest.startIndex + 1])))
        }
        return nil
    }
}
