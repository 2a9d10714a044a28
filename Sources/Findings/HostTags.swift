import CollectorStore
import Policy

/// A host's tags: the policy inventory's, with what operators said (`portwarden hosts
/// tag|untag`) applied over them. The one place tags are resolved: ingest, re-evaluation,
/// `policy eval`, replay and reports all ask here, so a host carries the same tags in each.
public struct HostTags: Sendable {
    /// The policy's inventory; nil when no policy could be read (operators' tags only).
    public let inventory: Inventory?
    /// Operators' edits by host name.
    public let edits: [String: TagEdits]

    public init(inventory: Inventory?, edits: [String: TagEdits]) {
        self.inventory = inventory
        self.edits = edits
    }

    /// `host`'s tags.
    public func of(_ host: String) -> Set<String> {
        Self.resolve(inventory: inventory?.tags(for: host) ?? [], edits: edits[host] ?? TagEdits())
    }

    /// The inventory's tags, plus those added, minus those removed (case-insensitively;
    /// a removal wins over the inventory).
    public static func resolve(inventory: Set<String>, edits: TagEdits) -> Set<String> {
        let gone = Set(edits.removed.map { $0.lowercased() })
        var tags = inventory.filter { !gone.contains($0.lowercased()) }
        for tag in edits.added where !tags.contains(where: { $0.lowercased() == tag.lowercased() }) { tags.insert(tag) }
        return tags
    }
}
