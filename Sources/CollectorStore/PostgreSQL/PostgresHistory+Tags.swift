import Foundation
import PostgresClient

// Operators' tag edits (CollectorDatabase+Tags.swift). Enrollment decides on them ("tagged
// by an operator: waits for approval"), so an edit takes `PGLocks.identity`, as serial
// with those decisions as SQLite's single writer made it.

extension PostgresHistory {
    public func tag(host: String, _ tag: String, at now: Int64, by actor: String) throws {
        try record(HostTag(host: host, tag: tag, assigned: true, at: now), by: actor)
    }

    public func untag(host: String, _ tag: String, at now: Int64, by actor: String) throws {
        try record(HostTag(host: host, tag: tag, assigned: false, at: now), by: actor)
    }

    @discardableResult
    public func forgetTag(host: String, _ tag: String, at now: Int64, by actor: String) throws -> Bool {
        try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            let forgot = try connection.execute("DELETE FROM hostTag WHERE hostName = $1 AND folded = $2",
                                                [host, HostTag.folded(tag)]).affectedRows > 0
            if forgot {
                try HostTag.forgotten(host: host, tag: tag, at: now, by: actor).insert(connection)
                try Self.forgetState(host: host, on: connection)
            }
            return forgot
        }
    }

    public func tagEdits(host: String) throws -> TagEdits {
        try read { try Self.tagEdits(host: host, on: $0) }
    }

    public func allTagEdits() throws -> [String: TagEdits] {
        try read { try Self.allTagEdits(on: $0) }
    }

    /// Every host's edits as `connection` sees them (re-evaluation reads them in its own transaction).
    static func allTagEdits(on connection: PGConnection) throws -> [String: TagEdits] {
        var edits: [String: TagEdits] = [:]
        try connection.forEachRow("""
            SELECT hostName, tag, assigned FROM hostTag ORDER BY hostName COLLATE "C", folded COLLATE "C"
            """) { row in
            edits[try row.value("hostName"), default: TagEdits()].add(try row.value("tag"), assigned: try row.value("assigned"))
        }
        return edits
    }

    public func assignedTags() throws -> Set<String> {
        try read { connection in
            Set(try connection.query("SELECT tag FROM hostTag WHERE assigned").map { try $0.value("tag") })
        }
    }

    /// One host's edits as `connection` sees them, tags in folded order: ingest asks on
    /// every report (in its own transaction), hence the prepared statement.
    static func tagEdits(host: String, on connection: PGConnection) throws -> TagEdits {
        var edits = TagEdits()
        for row in try connection.executePrepared("""
            SELECT tag, assigned FROM hostTag WHERE hostName = $1 ORDER BY folded COLLATE "C"
            """, [host]).rows {
            edits.add(try row.value("tag"), assigned: try row.value("assigned"))
        }
        return edits
    }

    /// Stores `edit`, replacing the host's earlier edit of the tag in any case, and audits it.
    private func record(_ edit: HostTag, by actor: String) throws {
        try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            try connection.execute("""
                INSERT INTO hostTag (hostName, tag, folded, assigned, changedAt) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (hostName, folded) DO UPDATE SET tag = excluded.tag, assigned = excluded.assigned,
                    changedAt = excluded.changedAt
                """, [edit.hostName, edit.tag, edit.folded, edit.assigned, edit.changedAt])
            try edit.auditEntry(by: actor).insert(connection)
            try Self.forgetState(host: edit.hostName, on: connection)
        }
    }

    /// The host's findings may differ now: its next report comes in full and is evaluated
    /// (`HostRecord.stateDigest`).
    static func forgetState(host: String, on connection: PGConnection) throws {
        try connection.execute("UPDATE host SET stateDigest = NULL WHERE name = $1", [host])
    }
}
