internal import GRDB

extension AuditAction {
    /// `hosts tag`, `hosts untag`, and `hosts untag --follow-inventory` (what was said about a tag forgotten).
    public static let tagAssigned = AuditAction("tag.assigned")
    public static let tagRemoved = AuditAction("tag.removed")
    public static let tagForgotten = AuditAction("tag.forgotten")
}

extension CollectorDatabase {
    /// `portwarden hosts tag`: the host carries `tag`, whatever the inventory says.
    /// Replaces an earlier removal of it. Audited in the same transaction.
    public func tag(host: String, _ tag: String, at now: Int64, by actor: String) throws {
        try record(HostTag(host: host, tag: tag, assigned: true, at: now), by: actor)
    }

    /// `portwarden hosts untag`: the host does not carry `tag`, even when an inventory
    /// glob gives it. Replaces an earlier `tag`. Audited in the same transaction.
    public func untag(host: String, _ tag: String, at now: Int64, by actor: String) throws {
        try record(HostTag(host: host, tag: tag, assigned: false, at: now), by: actor)
    }

    /// Forgets what operators said about `tag` on `host`: the inventory decides again.
    /// Whether there was anything to forget; audited when there was.
    @discardableResult
    public func forgetTag(host: String, _ tag: String, at now: Int64, by actor: String) throws -> Bool {
        try writer.write { db in
            let forgot = try HostTag.filter(HostTag.Columns.hostName == host && HostTag.Columns.folded == HostTag.folded(tag))
                .deleteAll(db) > 0
            if forgot {
                try Self.audit(HostTag.forgotten(host: host, tag: tag, at: now, by: actor), db)
                try Self.forgetState(host: host, db)
            }
            return forgot
        }
    }

    private func record(_ edit: HostTag, by actor: String) throws {
        try writer.write { db in
            try edit.upsert(db)
            try Self.audit(edit.auditEntry(by: actor), db)
            try Self.forgetState(host: edit.hostName, db)
        }
    }

    /// The host's findings may differ now: its next report comes in full and is evaluated
    /// (`HostRecord.stateDigest`).
    static func forgetState(host: String, _ db: Database) throws {
        try db.execute(sql: "UPDATE host SET stateDigest = NULL WHERE name = ?", arguments: [host])
    }

    /// What operators said about one host's tags.
    public func tagEdits(host: String) throws -> TagEdits {
        try reader.read { db in try Self.tagEdits(host: host, db) }
    }

    /// Every host's tag edits, by host name.
    public func allTagEdits() throws -> [String: TagEdits] {
        try reader.read { db in try Self.allTagEdits(db) }
    }

    /// Every tag `hosts tag` gave anywhere, so a rule naming one is not warned about.
    public func assignedTags() throws -> Set<String> {
        try reader.read { db in
            Set(try HostTag.filter(HostTag.Columns.assigned == true).fetchAll(db).map(\.tag))
        }
    }

    /// One host's edits; ingest asks on every report, hence the cached statement.
    static func tagEdits(host: String, _ db: Database) throws -> TagEdits {
        try tagEdits(only: host, db)[host] ?? TagEdits()
    }

    static func allTagEdits(_ db: Database) throws -> [String: TagEdits] { try tagEdits(only: nil, db) }

    /// Edits by host name, tags in folded order: of host `only`, or of every host.
    private static func tagEdits(only host: String?, _ db: Database) throws -> [String: TagEdits] {
        let statement = try db.cachedStatement(sql: host == nil
            ? "SELECT hostName, tag, assigned FROM hostTag ORDER BY hostName, folded"
            : "SELECT hostName, tag, assigned FROM hostTag WHERE hostName = ? ORDER BY folded")
        var edits: [String: TagEdits] = [:]
        let rows = try Row.fetchCursor(statement, arguments: host.map { [$0] } ?? [])
        while let row = try rows.next() {
            let name: String = row[0], tag: String = row[1]
            edits[name, default: TagEdits()].add(tag, assigned: row[2])
        }
        return edits
    }
}
