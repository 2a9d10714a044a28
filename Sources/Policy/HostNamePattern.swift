import PortwardenModel

/// A glob over host names (`vms-*`, `nfs-[0-9]*`, `*.example.com`), read in the names'
/// own normal form (`HostName.normalized`): lower case, no trailing dot. Inventory
/// entries and enrollment tokens (`portwarden enroll token create --names`) match with it.
public struct HostNamePattern: Equatable, Sendable, CustomStringConvertible {
    /// As written.
    public let text: String
    let glob: Glob

    init(checking text: String) throws(GlobError) {
        var normal = text.lowercased()
        if normal.hasSuffix("."), !normal.hasSuffix("\\.") { normal.removeLast() }
        glob = try Glob(normal)
        self.text = text
    }

    /// A pattern, or why it cannot be one (the position is a byte offset into `text`).
    public init(_ text: String) throws(HostNamePatternError) {
        do throws(GlobError) { try self.init(checking: text) } catch {
            throw HostNamePatternError(text: text, offset: error.offset, message: error.message)
        }
    }

    public var description: String { text }

    /// Whether `name` matches; a name is read in normal form first (`VMS-1.` is vms-1).
    public func matches(_ name: String) -> Bool {
        glob.matches((try? HostName.normalized(name).get()) ?? name.lowercased())
    }

    /// A character outside `[…]` that no host name holds (`_`, a space, `\*`): such a
    /// pattern matches no host at all. nil when the pattern can match.
    public var strayCharacter: Character? {
        var inClass = false, escaped = false
        for c in text.lowercased() {
            if escaped {
                escaped = false
                if !Self.nameCharacter(c) { return c }
                continue
            }
            switch c {
            case "\\" where !inClass: escaped = true
            case "[": inClass = true
            case "]": inClass = false
            case "*", "?": continue
            default: if !inClass && !Self.nameCharacter(c) { return c }
            }
        }
        return nil
    }

    private static func nameCharacter(_ c: Character) -> Bool {
        ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "-" || c == "."
    }
}

public struct HostNamePatternError: Error, Equatable, Sendable, CustomStringConvertible {
    public let text: String
    public let offset: Int
    public let message: String
    public var description: String { "\"\(text)\" is not a host-name pattern: \(message)" }
}
