/// What `hosts tag`, `hosts untag` and forgetting mean, whichever store keeps them: one
/// edit per tag whatever its case, the newest winning, each audited in its words.
extension HostTag {
    /// `host` carries `tag` (`assigned`) or does not, from `now` on.
    init(host: String, tag: String, assigned: Bool, at now: Int64) {
        self.init(hostName: host, tag: tag, folded: Self.folded(tag), assigned: assigned, changedAt: now)
    }

    /// The key of a tag: `PCI` and `pci` are one tag, edited in one row.
    static func folded(_ tag: String) -> String { tag.lowercased() }

    /// The audit of this edit, by `actor`.
    func auditEntry(by actor: String) -> AuditEntry {
        AuditEntry(at: changedAt, action: assigned ? .tagAssigned : .tagRemoved, actor: actor, host: hostName,
                   detail: assigned ? "tagged \(tag)" : "untagged \(tag) (overrides the inventory)")
    }

    /// The audit of forgetting what operators said about `tag` on `host`.
    static func forgotten(host: String, tag: String, at now: Int64, by actor: String) -> AuditEntry {
        AuditEntry(at: now, action: .tagForgotten, actor: actor, host: host, detail: "\(tag): the inventory decides again")
    }
}

extension TagEdits {
    /// Adds one stored edit; rows are read in folded order, so the lists are too.
    mutating func add(_ tag: String, assigned: Bool) {
        if assigned { added.append(tag) } else { removed.append(tag) }
    }
}
