import Foundation
import PortwardenModel
import PostgresClient

// Ingest on PostgreSQL: what CollectorDatabase+Ingest.swift does on SQLite, deciding
// through the same IngestDecisions, with the host's row locked for the whole report so
// that two collectors storing one host serialise. Every per-report statement is prepared
// once per connection; a report whose listeners did not change is four round trips, an unchanged report three.

extension PostgresHistory {
    /// Several reports in one transaction, a savepoint each (one refused does not undo the
    /// others), refusals recorded in order between them; see `HistoryStore.ingest`. A lost
    /// connection or a restarting server fails the whole batch with `StorageUnavailable`:
    /// nothing of it was committed. A deadlock with another collector's batch (hosts locked
    /// in other orders) runs the batch again (`PGPool.write`).
    public func ingest(_ batch: [IngestRequest], refusals: [(before: Int, refusal: HostRefusal)], findings: FindingEvaluator?,
                       clock: ReportClock?) throws -> [Result<IngestOutcome, any Error>] {
        let batch = IngestBatch(batch)
        let stored = try write { connection in
            try batch.store(refusals: refusals, record: { try Self.record($0, on: connection) }) { request, collectedAt in
                guard request.writesPartway else {
                    return try Self.transaction(request, collectedAt: collectedAt, findings: findings, clock: clock,
                                                on: connection)
                }
                return try connection.savepoint {
                    try Self.transaction(request, collectedAt: collectedAt, findings: findings, clock: clock,
                                         on: connection)
                }
            }
        }
        return batch.results(stored)
    }

    /// One report alone, on a thread of its own: libpq blocks.
    public func ingest(_ request: IngestRequest, findings: FindingEvaluator?, clock: ReportClock?) async throws -> IngestOutcome {
        let collectedAt = try request.preparedTime()
        return try await detached {
            try self.write { connection in
                try Self.transaction(request, collectedAt: collectedAt, findings: findings, clock: clock,
                                     on: connection)
            }
        }
    }

    /// The snapshot stored and, unless it was a duplicate, evaluated: one transaction; an
    /// unchanged report moves the host's times and receipts only (as on SQLite).
    private static func transaction(_ request: IngestRequest, collectedAt: Int64,
                                    findings: FindingEvaluator?, clock: ReportClock?, on connection: PGConnection) throws -> IngestOutcome {
        let snapshot: Snapshot
        switch request.content {
        case .snapshot(let full): snapshot = full
        case .unchanged(let report):
            return try storeUnchanged(request, report, collectedAt: collectedAt, clock: clock, on: connection)
        }
        let (outcome, hostId, evaluatedAt, held) = try store(request, snapshot, collectedAt: collectedAt,
                                                             clock: clock, on: connection)
        if let hostId, let findings {
            try evaluateFindings(snapshot, listeners: held, host: request.host, hostId: hostId, at: evaluatedAt,
                                 evaluate: findings, on: connection)
        }
        return outcome
    }

    /// As SQLite's `storeUnchanged`, the host's row locked as for a full report: three round trips.
    private static func storeUnchanged(_ request: IngestRequest, _ report: UnchangedReport, collectedAt sent: Int64, clock: ReportClock?,
                                       on connection: PGConnection) throws -> IngestOutcome {
        let sequence = try IngestDecisions.sequence(report.sequence)
        let stored = try connection.executePrepared("SELECT * FROM host WHERE name = $1 FOR UPDATE", [request.host]).first
            .map { try HostRecord(pg: $0) }
        if IngestDecisions.isDuplicate(stored, bootID: report.bootID, sequence: sequence) { return .duplicate }
        guard var host = stored, IngestDecisions.holdsState(host, report.stateDigest, evaluatedUnder: request.evaluatedUnder,
                                                             at: max(sent, request.receivedAt)) else { return .stateUnknown }
        let collectedAt = try clock?.check(collectedAt: sent, sequence: sequence, receivedAt: request.receivedAt, stored: stored) ?? sent
        host.apply(unchanged: report, collectedAt: collectedAt, receivedAt: request.receivedAt, sequence: sequence,
                   clocked: clock != nil)
        try connection.executePrepared("""
            WITH cleared AS (DELETE FROM hostRefusal WHERE hostName = $1)
            UPDATE host SET bootID = $2, lastSeen = $3, lastReceived = $4, lastSequence = $5, stateSequence = $6 WHERE id = $7
            """, [request.host, host.bootID, host.lastSeen, host.lastReceived, host.lastSequence, host.stateSequence, host.id!])
        try recordReceipt(request, hostId: host.id!, bootID: report.bootID, sequence: sequence, collectedAt: collectedAt,
                          continuing: true, on: connection)
        return .unchanged
    }

    /// The report in the host's receipts: the newest run continued in one round trip when
    /// `continuing` and it is of this boot (`ReceiptRun.continues`); otherwise a new run.
    private static func recordReceipt(_ request: IngestRequest, hostId: Int64, bootID: String?, sequence: Int64?, collectedAt: Int64,
                                      continuing: Bool, on connection: PGConnection) throws {
        if continuing, try connection.executePrepared("""
            UPDATE receiptRun SET lastSequence = COALESCE($1, lastSequence), lastBodyDigest = $2, lastCollected = $3,
                lastReceived = $4, reports = reports + 1
            WHERE id = (SELECT max(id) FROM receiptRun WHERE hostId = $5) AND bootID IS NOT DISTINCT FROM $6
            """, [sequence, request.bodyDigest, collectedAt, request.receivedAt, hostId, bootID]).affectedRows == 1 {
            return
        }
        try insert(ReceiptRun.first(hostId: hostId, bootID: bootID, sequence: sequence, digest: request.bodyDigest,
                                    collectedAt: collectedAt, receivedAt: request.receivedAt), on: connection)
    }

    /// The host's row, locked until the transaction ends, and whether this report is the
    /// host's first. A new host's row is inserted as its first report makes it; when
    /// another collector inserted it first, theirs is locked and read (after they commit).
    private static func lockedHost(_ request: IngestRequest, _ snapshot: Snapshot, sent: Int64,
                                   on connection: PGConnection) throws -> (HostRecord, new: Bool) {
        let select = "SELECT * FROM host WHERE name = $1 FOR UPDATE"
        if let row = try connection.executePrepared(select, [request.host]).first { return (try HostRecord(pg: row), false) }
        var host = HostRecord.first(request.host, sent: sent, receivedAt: request.receivedAt, complete: snapshot.complete)
        let inserted = try connection.executePrepared("""
            INSERT INTO host (name, firstSeen, lastSeen, lastReceived, complete, firstReceived) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (name) DO NOTHING RETURNING id
            """, [host.name, host.firstSeen, host.lastSeen, host.lastReceived, host.complete, host.firstReceived])
        if let row = inserted.first {
            host.id = try row.value("id")
            return (host, true)
        }
        guard let row = try connection.executePrepared(select, [request.host]).first else {
            throw StoreError(description: "host \(request.host) was removed while its report was being stored")
        }
        return (try HostRecord(pg: row), false)
    }

    /// As SQLite's `store`: the outcome, the host's id unless there is nothing to evaluate
    /// (a duplicate, or a snapshot of the state the host holds), the time
    /// to evaluate findings at, and the listeners as the history holds them.
    private static func store(_ request: IngestRequest, _ snapshot: Snapshot, collectedAt sent: Int64,
                              clock: ReportClock?, on connection: PGConnection) throws -> (IngestOutcome, Int64?, Int64, [Listener]) {
        let name = request.host, receivedAt = request.receivedAt
        let sequence = try IngestDecisions.sequence(snapshot.sequence)
        // Locked before anything is decided: a second collector with the same report waits
        // here, then finds it stored (a duplicate), so no sequence is stored twice.
        let (locked, new) = try lockedHost(request, snapshot, sent: sent, on: connection)
        let stored = new ? nil : locked
        if IngestDecisions.isDuplicate(stored, bootID: snapshot.host.bootID, sequence: sequence) {
            return (.duplicate, nil, sent, [])
        }
        if let stored, stored.retiredAt != nil {
            guard IngestDecisions.mayReturn(stored, sent: sent), try returns(stored, at: receivedAt, on: connection) else {
                return (.duplicate, nil, sent, [])
            }
        }
        let collectedAt = try clock?.check(collectedAt: sent, sequence: sequence, receivedAt: receivedAt, stored: stored) ?? sent
        let restated = IngestDecisions.restates(stored, request, at: max(sent, receivedAt))
        var host = locked
        let labelsChanged = host.apply(snapshot, collectedAt: collectedAt, receivedAt: receivedAt, sequence: sequence,
                                       clocked: clock != nil)
        host.holdState(request.stateDigest, evaluatedUnder: request.evaluatedUnder)
        let hostId = host.id!
        // The refusal cleared in the same round trip as the host is written.
        try connection.executePrepared("""
            WITH cleared AS (DELETE FROM hostRefusal WHERE hostName = $1)
            UPDATE host SET machineID = $2, bootID = $3, kernel = $4, os = $5, lastSeen = $6, lastReceived = $7,
                lastSequence = $8, complete = $9, labels = $10, retiredAt = NULL, retiredBy = NULL, retiredReason = NULL,
                stateDigest = $12, stateSequence = $13, statePolicy = $14, stateUntil = $15
            WHERE id = $11
            """, [name, host.machineID, host.bootID, host.kernel, host.os, host.lastSeen, host.lastReceived, host.lastSequence,
                  host.complete, host.labels, hostId, host.stateDigest, host.stateSequence, host.statePolicy, host.stateUntil])
        if labelsChanged {
            // Labels over time, for replay; a second change in the same second replaces the first.
            try connection.executePrepared("""
                INSERT INTO hostLabels (hostId, since, labels) VALUES ($1, $2, $3)
                ON CONFLICT (hostId, since) DO UPDATE SET labels = excluded.labels
                """, [hostId, collectedAt, host.labels])
        }
        if restated {
            try recordReceipt(request, hostId: hostId, bootID: snapshot.host.bootID, sequence: sequence, collectedAt: collectedAt,
                              continuing: true, on: connection)
            return (.unchanged, nil, collectedAt, [])
        }

        var open: [String: OpenInterval] = [:]
        for row in try connection.executePrepared("""
            SELECT id, identity, netns, unseenSince, ownersUnseenSince FROM listenerInterval WHERE hostId = $1 AND closed IS NULL
            """, [hostId]).rows {
            open[try row.value("identity")] = OpenInterval(id: try row.value("id"), netns: UInt64(bitPattern: try row.value("netns")),
                                                           unseenSince: try row.value("unseenSince"),
                                                           ownersUnseenSince: try row.value("ownersUnseenSince"))
        }
        let held = try HeldListeners(snapshot, observed: Observation.all(in: snapshot), open: open) {
            try connection.execute("""
                SELECT * FROM listenerInterval WHERE hostId = $1 AND closed IS NULL AND owners != '[]' ORDER BY id
                """, [hostId]).rows.map { try ListenerInterval(pg: $0) }
        }
        let changes = ListenerChanges(held, open: open, snapshot: snapshot, hostId: hostId, at: collectedAt)
        for interval in changes.opened { try insert(interval, on: connection) }
        for id in changes.closed {
            try connection.executePrepared("UPDATE listenerInterval SET closed = $1 WHERE id = $2", [collectedAt, id])
        }
        for marks in changes.marked {
            try connection.executePrepared("UPDATE listenerInterval SET unseenSince = $1, ownersUnseenSince = $2 WHERE id = $3",
                                           [marks.unseenSince, marks.ownersUnseenSince, marks.id])
        }

        let outcome = changes.outcome(labelsChanged: labelsChanged, newHost: new)
        let evaluatedAt = host.evaluationTime(collectedAt: collectedAt)
        try recordReceipt(request, hostId: hostId, bootID: snapshot.host.bootID, sequence: sequence, collectedAt: collectedAt,
                          continuing: changes.keepsRun, on: connection)
        return (outcome, hostId, evaluatedAt, held.listeners)
    }

    /// Whether a retired host's report starts a new life: the name holds an unrevoked
    /// certificate issued at or after the retirement. Audited in the report's transaction.
    private static func returns(_ host: HostRecord, at now: Int64, on connection: PGConnection) throws -> Bool {
        guard let retiredAt = host.retiredAt,
              let row = try connection.executePrepared("""
                  SELECT serial FROM certificate WHERE hostName = $1 AND revokedAt IS NULL AND issuedAt >= $2
                  ORDER BY issuedAt DESC LIMIT 1
                  """, [host.name, retiredAt]).first
        else { return false }
        let serial: String = try row.value("serial")
        let entry = AuditEntry.returned(host.name, serial: serial, retiredAt: retiredAt, at: now)
        try entry.insert(connection)
        return true
    }
}
