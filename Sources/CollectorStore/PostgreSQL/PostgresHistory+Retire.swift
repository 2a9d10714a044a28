import Foundation
import PostgresClient

// `hosts forget` (CollectorDatabase+Retire.swift): the decision and every write in one
// transaction, holding `PGLocks.identity` (it revokes certificates, as enrollment and
// renewal decide on them) and then the host's row, so an ingest of the host on another
// collector runs wholly before it (and its intervals are closed here) or wholly after
// (and finds the host retired).

extension PostgresHistory {
    public func retire(host name: String, at now: Int64, by actor: String, reason: String?) throws -> Retirement? {
        let retirement = try write { connection -> Retirement? in
            try PGLocks.hold(PGLocks.identity, on: connection)
            let host = try Self.host(named: name, locking: true, on: connection)
            let everCertified: Bool = try connection.query("""
                SELECT EXISTS (SELECT 1 FROM certificate WHERE hostName = $1) AS certified
                """, [name])[0].value("certified")
            guard host != nil || everCertified else { return nil }
            let serials = try Self.revoked(host: name, at: now, connection)
            var listeners = 0, findings = 0
            if let id = host?.id {
                // Never before it opened: an interval a fast clock dated ahead closes when it opened.
                for table in ["listenerInterval", "findingInterval"] {
                    let closed = try connection.execute("""
                        UPDATE \(table) SET closed = GREATEST(opened, $1), closedAs = $2 WHERE hostId = $3 AND closed IS NULL
                        """, [now, ClosedAs.retired, id]).affectedRows
                    if table == "listenerInterval" { listeners = closed } else { findings = closed }
                }
                if host?.retiredAt == nil {
                    try connection.execute("UPDATE host SET retiredAt = $1, retiredBy = $2, retiredReason = $3 WHERE id = $4",
                                           [now, actor, reason.map(Retirement.storedReason), id])
                }
            }
            try connection.execute("DELETE FROM hostRefusal WHERE hostName = $1", [name])
            let retirement = Retirement(host: name, at: now, record: host, revokedSerials: serials, listenersClosed: listeners,
                                        findingsClosed: findings)
            for entry in retirement.auditEntries(at: now, by: actor, reason: reason) { try entry.insert(connection) }
            return retirement
        }
        // This collector's own view of certificates, now; the others' when the NOTIFY `revoked` sent arrives.
        if retirement?.revokedSerials.isEmpty == false { standings.refresh(host: name, pool: pool) }
        return retirement
    }
}
