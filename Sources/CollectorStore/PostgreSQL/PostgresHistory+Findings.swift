import Foundation
import PortwardenModel
import PostgresClient

// Finding intervals on PostgreSQL, as CollectorDatabase+Findings.swift on SQLite: opened
// and resolved by ingest (in the report's transaction, its host's row locked) and by the
// fleet's re-evaluation, which locks every host's row first so that no collector's ingest
// evaluates the same host at once (two open intervals of one finding).

extension PostgresHistory {
    /// Every host's open listeners evaluated again, in one transaction, as if each had sent
    /// a complete snapshot at `now`. The hosts' rows are locked first, in name order: a
    /// batch of ingest waits for it (or it for the batch); a deadlock runs it again.
    public func reevaluateFindings(at now: Date, evaluate: FindingEvaluator, stamp: EvaluationStamp?) throws -> FindingChanges {
        try write { connection in
            let hosts = try connection.query("SELECT * FROM host ORDER BY name COLLATE \"C\" FOR UPDATE").map { try HostRecord(pg: $0) }
            var changes = FindingChanges()
            let tags = try Self.allTagEdits(on: connection)
            let open = try Self.openFindings(host: nil, on: connection)
            var listeners: [Int64: [ListenerInterval]] = [:]
            try connection.forEachRow("SELECT * FROM listenerInterval WHERE closed IS NULL ORDER BY port, id") { row in
                let interval = try ListenerInterval(pg: row)
                listeners[interval.hostId, default: []].append(interval)
            }
            let time = Int64(now.timeIntervalSince1970)
            for host in hosts {
                let subject = FindingSubject(host: host.name, listeners: (listeners[host.id!] ?? []).map(\.listener),
                                             tags: tags[host.name] ?? TagEdits(), labels: host.labelMap, at: now)
                guard let update = evaluate(subject, open[host.id!] ?? [:]) else { return changes }
                changes = changes + (try Self.record(update, hostId: host.id!, at: time, on: connection))
                if update != FindingUpdate() {
                    try connection.executePrepared("UPDATE host SET findingsChangedAt = $1 WHERE id = $2", [time, host.id!])
                }
            }
            try connection.execute("UPDATE host SET statePolicy = $1, stateUntil = $2", [stamp?.policy, stamp?.until])
            return changes
        }
    }

    /// One freshly stored snapshot evaluated, inside ingest's transaction.
    static func evaluateFindings(_ snapshot: Snapshot, listeners: [Listener], host name: String, hostId: Int64, at time: Int64,
                                 evaluate: FindingEvaluator, on connection: PGConnection) throws {
        let subject = FindingSubject(host: name, listeners: listeners, tags: try tagEdits(host: name, on: connection),
                                     labels: snapshot.host.labels ?? [:], at: Date(timeIntervalSince1970: TimeInterval(time)),
                                     complete: Completeness(snapshot))
        guard let update = evaluate(subject, try openFindings(host: hostId, on: connection)[hostId] ?? [:]) else { return }
        _ = try record(update, hostId: hostId, at: time, on: connection)
    }

    /// The open findings by identity, by host id: of host `hostId`, or of every host.
    private static func openFindings(host hostId: Int64?, on connection: PGConnection) throws -> [Int64: [String: OpenFinding]] {
        let rows = try hostId.map {
            try connection.executePrepared("SELECT hostId, id, identity, netns FROM findingInterval WHERE hostId = $1 AND closed IS NULL", [$0])
        } ?? connection.execute("SELECT hostId, id, identity, netns FROM findingInterval WHERE closed IS NULL")
        var open: [Int64: [String: OpenFinding]] = [:]
        for row in rows.rows {
            open[try row.value("hostId"), default: [:]][try row.value("identity")] =
                OpenFinding(id: try row.value("id"), netns: UInt64(bitPattern: try row.value("netns")))
        }
        return open
    }

    /// What an evaluation decided: an interval opened for each new finding, the resolved ones closed at `time`.
    private static func record(_ update: FindingUpdate, hostId: Int64, at time: Int64, on connection: PGConnection) throws -> FindingChanges {
        for finding in update.open { try insert(finding.interval(hostId: hostId, opened: time), on: connection) }
        for id in update.resolve {
            try connection.executePrepared("UPDATE findingInterval SET closed = $1 WHERE id = $2 AND closed IS NULL", [time, id])
        }
        return FindingChanges(opened: update.open.count, resolved: update.resolve.count)
    }

    /// The findings open on `host` now, oldest first, then by port and rule.
    public func openFindings(host name: String) throws -> [FindingInterval] { try findings(host: name, openOnly: true) }

    /// Every finding interval of `host`, open or resolved, oldest first.
    public func findingHistory(host name: String) throws -> [FindingInterval] { try findings(host: name, openOnly: false) }

    private func findings(host name: String, openOnly: Bool) throws -> [FindingInterval] {
        try read { connection in
            try connection.query("""
                SELECT f.* FROM findingInterval f JOIN host h ON h.id = f.hostId
                WHERE h.name = $1\(openOnly ? " AND f.closed IS NULL" : "") ORDER BY f.opened, f.port, f.rule COLLATE "C", f.id
                """, [name]).map { try FindingInterval(pg: $0) }
        }
    }

    /// Open, unwaived findings by severity, for /metrics.
    public func openFindingCounts() throws -> [String: Int] {
        try read { connection in
            let rows = try connection.query("""
                SELECT severity, COUNT(*) AS n FROM findingInterval WHERE closed IS NULL AND NOT waived GROUP BY severity
                """)
            return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.value("severity") as String, try $0.value("n") as Int) })
        }
    }
}
