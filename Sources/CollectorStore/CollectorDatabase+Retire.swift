internal import GRDB
import PortwardenModel

extension AuditAction {
    /// `hosts forget`: the host left the fleet (certificates revoked, intervals closed).
    public static let hostRetired = AuditAction("host.retired")
    /// A retired host reported again with a certificate issued after its retirement.
    public static let hostReturned = AuditAction("host.returned")
}

/// What `hosts forget` did, for the operator to read.
public struct Retirement: Equatable, Sendable {
    public var host: String
    public var at: Int64
    /// The certificates it revoked (those still unrevoked).
    public var revokedSerials: [String]
    public var listenersClosed: Int
    public var findingsClosed: Int
    /// Whether the host had a record (it had reported): only such a host is marked retired.
    public var hadReported: Bool
    /// It was retired before (`at` is then that first retirement, kept with its reason);
    /// only certificates issued since were revoked.
    public var alreadyRetired = false
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
                                   arguments: [now, actor, reason.map(AuditText.clean), id])
                }
            }
            try db.execute(sql: "DELETE FROM hostRefusal WHERE hostName = ?", arguments: [name])
            if !serials.isEmpty {
                try Self.audit(AuditEntry(at: now, action: .certificateRevoked, actor: actor, host: name,
                                          detail: "serial \(serials.joined(separator: ", ")) (host retired)"), db)
            }
            var detail = "\(serials.count) certificate(s) revoked, \(listeners) listener and \(findings) finding interval(s) closed as retired"
            if let reason { detail += "; reason: \(reason)" }
            try Self.audit(AuditEntry(at: now, action: .hostRetired, actor: actor, host: name, detail: detail), db)
            return Retirement(host: name, at: host?.retiredAt ?? now, revokedSerials: serials, listenersClosed: listeners,
                              findingsClosed: findings, hadReported: host != nil, alreadyRetired: host?.retiredAt != nil)
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
