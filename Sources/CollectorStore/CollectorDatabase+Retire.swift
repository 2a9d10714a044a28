internal import GRDB
import PortwardenModel

extension AuditAction {
    /// `hosts forget`: the host left the fleet (certificates revoked, intervals closed).
    public static let hostRetired = AuditAction("host.retired")
    /// A retired host reported again with a certificate issued after its retirement.
    public static let hostReturned = AuditAction("host.returned")
}

extension CollectorDatabase {
    /// `hosts forget`: in one transaction, revokes `host`'s certificates, closes its open
    /// listener and finding intervals as retired (not resolved), marks it retired, drops
    /// its refusal and audits it. Nil when nothing of the name is on record (no host, no
    /// certificate). Its history, certificates and tag edits are kept: the name having
    /// held a certificate, enrolling it again waits for an operator.
    public func retire(host name: String, at now: Int64, by actor: String, reason: String?) throws -> Retirement? {
        try writer.write { db in
            let host = try HostRecord.named(name, db)
            let everCertified = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM certificate WHERE hostName = ?)",
                                                  arguments: [name]) ?? false
            guard host != nil || everCertified else { return nil }
            let serials = try Self.revoked(host: name, at: now, db)
            var listeners = 0, findings = 0
            if let id = host?.id {
                // Never before it opened: an interval a fast clock dated ahead closes when it opened.
                for table in ["listenerInterval", "findingInterval"] {
                    try db.execute(sql: """
                        UPDATE \(table) SET closed = MAX(opened, ?), closedAs = ? WHERE hostId = ? AND closed IS NULL
                        """, arguments: [now, ClosedAs.retired, id])
                    if table == "listenerInterval" { listeners = db.changesCount } else { findings = db.changesCount }
                }
                if host?.retiredAt == nil {
                    try db.execute(sql: "UPDATE host SET retiredAt = ?, retiredBy = ?, retiredReason = ? WHERE id = ?",
                                   arguments: [now, actor, reason.map(Retirement.storedReason), id])
                }
            }
            try db.execute(sql: "DELETE FROM hostRefusal WHERE hostName = ?", arguments: [name])
            let retirement = Retirement(host: name, at: now, record: host, revokedSerials: serials, listenersClosed: listeners,
                                        findingsClosed: findings)
            for entry in retirement.auditEntries(at: now, by: actor, reason: reason) { try Self.audit(entry, db) }
            return retirement
        }
    }

    /// Whether a retired `host`'s report starts a new life: the name holds an unrevoked
    /// certificate issued at or after the retirement (an operator approved it again).
    /// The return is audited in the transaction that stores the report.
    static func returns(_ host: HostRecord, at now: Int64, _ db: Database) throws -> Bool {
        guard let retiredAt = host.retiredAt,
              let serial = try String.fetchOne(db, sql: """
                  SELECT serial FROM certificate WHERE hostName = ? AND revokedAt IS NULL AND issuedAt >= ?
                  ORDER BY issuedAt DESC LIMIT 1
                  """, arguments: [host.name, retiredAt])
        else { return false }
        try audit(.returned(host.name, serial: serial, retiredAt: retiredAt, at: now), db)
        return true
    }
}

extension AuditEntry {
    /// A retired host's report started its new life, on certificate `serial`.
    static func returned(_ host: String, serial: String, retiredAt: Int64, at now: Int64) -> AuditEntry {
        AuditEntry(at: now, action: .hostReturned, actor: "certificate \(serial)", host: host,
                   detail: "reported again after its retirement of \(Timestamp.rfc3339(retiredAt)): a new life; "
                       + "the retired history stays")
    }
}
