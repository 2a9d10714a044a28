/// The collector's own record of what hosts are (`inventory.yaml`): host-name patterns
/// and the tags they give. Only the collector says a host is OpenVMS; agents cannot.
public struct Inventory: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        /// A host-name pattern as written; it matches names in normal form (lower case,
        /// no trailing dot), so `VMS-*.` and `vms-*` are one pattern.
        public var match: String
        public var tags: [String]
        public var location: SourceLocation
        let pattern: HostNamePattern
    }

    public let entries: [Entry]

    public init(entries: [Entry] = []) { self.entries = entries }

    /// The tags every matching entry gives the host. `portwarden hosts tag|untag` changes
    /// are the caller's to add and take away.
    public func tags(for hostname: String) -> Set<String> {
        var tags: Set<String> = []
        for e in entries where e.pattern.matches(hostname) { tags.formUnion(e.tags) }
        return tags
    }

    /// Every tag the inventory can give, for warning about rules that name another.
    var allTags: Set<String> { Set(entries.flatMap(\.tags)) }

    static func parse(_ reader: PolicyFileReader) -> Inventory {
        var entries: [Entry] = []
        for node in topList(reader, key: "hosts", what: "the inventory") ?? [] {
            guard let f = Fields(node, "an inventory entry", allowed: ["match", "tags"], reader: reader) else { continue }
            let matchNode = f.scalar("match", required: true, hint: "a host-name pattern such as 'vms-*'")
            let tagNodes = f.list("tags", required: true, hint: "the tags these hosts carry, e.g. [OpenVMS]") ?? []
            var tags: [String] = []
            for t in tagNodes {
                guard let tag = t.scalar?.string, isTagName(tag) else {
                    reader.error("expected a tag (letters, digits, '.', '_', '-'); got \(describe(t))", at: t)
                    continue
                }
                tags.append(tag)
            }
            guard let matchNode, let pattern = matchNode.scalar?.string else { continue }
            do throws(GlobError) {
                let compiled = try HostNamePattern(checking: pattern)
                if let stray = compiled.strayCharacter {
                    reader.warning("'\(pattern)' matches no host: host names hold only a-z, 0-9, '-' and '.', not '\(stray)'",
                                   at: matchNode)
                }
                entries.append(Entry(match: pattern, tags: tags, location: reader.location(of: node), pattern: compiled))
            } catch {
                reader.report(.error, error.message, in: matchNode, offset: scalarOffset(in: pattern, utf8: error.offset))
            }
        }
        return Inventory(entries: entries)
    }
}

/// Tags are plain words, so they read the same in YAML, in rules and on the command line.
public func isTagName(_ text: String) -> Bool {
    !text.isEmpty && text.unicodeScalars.allSatisfy { c in
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "." || c == "_" || c == "-"
    }
}

/// The Unicode-scalar offset (what positions count) of a UTF-8 byte offset into `text`.
func scalarOffset(in text: String, utf8 offset: Int) -> Int {
    String(decoding: text.utf8.prefix(offset), as: UTF8.self).unicodeScalars.count
}
