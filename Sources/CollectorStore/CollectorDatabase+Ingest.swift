import Foundation
internal import GRDB
import PortwardenModel
import PostgresClient

/// What one report did to the history.
public enum IngestOutcome: Equatable, Sendable {
    /// Listeners appeared or went (intervals opened and closed, a new receipt run), or the
    /// host's labels changed (0 opened, 0 closed).
    case changed(opened: Int, closed: Int)
    /// Nothing changed: the host's times and its current receipt run moved, no row was added.
    case unchanged
    /// Already acknowledged (same boot, sequence not newer): nothing written.
    case duplicate
    /// An unchanged report naming a state the collector does not hold for the host (a
    /// restored database, another collector's, a host forgotten or retagged since):
    /// nothing written; the agent sends the snapshot in full.
    case stateUnknown
}

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The database could not be written for a reason that may pass — the disk is full, an
/// I/O error, the file cannot be opened — rather than anything wrong with the report.
public struct StorageUnavailable: Error, CustomStringConvertible, Sendable {
    public let description: String

    /// Primary result codes that say "the storage", not "the statement".
    static let codes: [ResultCode] = [.SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_NOMEM]

    /// `error` as a storage failure; nil when it is about something else.
    init?(_ error: any Error) {
        if let error = error as? PGError {
            guard error.isTransient else { return nil }
            description = error.sqlState == "25006"
                ? "the database is read-only (a standby: point the connection string at the primary, e.g. target_session_attrs=read-write)"
                : "the database is unavailable (\(error.message))"
            return
        }
        guard let error = error as? DatabaseError, Self.codes.contains(error.resultCode) else { return nil }
        // Said as the disk's state, for the operator who reads it in the log and the
        // agent told to wait; SQLite's own words only where they add something.
        description = switch error.resultCode {
        case .SQLITE_FULL: "the disk holding the database is full"
        case .SQLITE_READONLY: "the database is read-only (its file, its directory or the file system)"
        case .SQLITE_CANTOPEN: "the database file cannot be opened (moved, or its directory not writable)"
        case .SQLITE_NOMEM: "the collector is out of memory"
        default: "the disk holding the database failed a read or write (\(error.message ?? "I/O error"))"
        }
    }
}

/// One report to store: the snapshot, or an unchanged report naming it, and what the
/// connection knew of it.
public struct IngestRequest: Sendable {
    public enum Content: Sendable {
        case snapshot(Snapshot)
        /// "The same as the state you hold" (`POST /v1/reports/unchanged`).
        case unchanged(UnchangedReport)
    }

    public var content: Content
    /// The name in the sending host's certificate.
    public var host: String
    public var bodyDigest: String
    public var receivedAt: Int64
    /// `collected_at` in seconds, when the collector read it already (`ReportClock.seconds`).
    public var collectedAt: Int64?
    /// The snapshot's state digest (`Snapshot.stateDigest`), kept as the host's state once
    /// the snapshot is stored, for its next unchanged reports to name; nil keeps none, and
    /// the host's next unchanged report is answered `stateUnknown`.
    public var stateDigest: String?
    /// The policy and waiver period in force when the report arrived (`EvaluationStamp`;
    /// nil: no policy): kept with a stored snapshot's state, required of an unchanged report.
    public var evaluatedUnder: EvaluationStamp?

    public init(_ snapshot: Snapshot, host: String, bodyDigest: String, receivedAt: Int64, collectedAt: Int64? = nil,
                stateDigest: String? = nil) {
        self.content = .snapshot(snapshot)
        self.host = host
        self.bodyDigest = bodyDigest
        self.receivedAt = receivedAt
        self.collectedAt = collectedAt
        self.stateDigest = stateDigest
    }

    public init(unchanged report: UnchangedReport, host: String, bodyDigest: String, receivedAt: Int64, collectedAt: Int64? = nil) {
        self.content = .unchanged(report)
        self.host = host
        self.bodyDigest = bodyDigest
        self.receivedAt = receivedAt
        self.collectedAt = collectedAt
        self.stateDigest = report.stateDigest
    }

    /// The report's sequence as the host sent it.
    public var sequence: UInt64? {
        switch content {
        case .snapshot(let snapshot): snapshot.sequence
        case .unchanged(let report): report.sequence
        }
    }
}

extension CollectorDatabase {
    /// Stores several reports in one transaction, each as if alone (a savepoint each: one
    /// refused does not undo the others), so that SQLite's commit — and its fsync — is
    /// paid once for all. A full disk or an I/O error throws `StorageUnavailable`: the
    /// whole transaction rolled back, nothing of any report was kept. `refusals` (reports
    /// refused on their way in) are recorded in the same transaction, each before the
    /// report at `before` (`batch.count`: after them all), so a host's refusals and stored
    /// reports — which clear its refusal — take effect in the order they arrived. With
    /// `clock`, a report out of the host's order is refused (`ReportRefusal`, `.outOfOrder`).
    /// A listener a snapshot did not show closes only where the snapshot could have shown
    /// it (`Completeness`: complete, or its namespace read in full); elsewhere it may only
    /// have been hidden. With `findings`, each snapshot is evaluated in
    /// its savepoint and its finding intervals opened and resolved alike.
    public func ingest(_ batch: [IngestRequest], refusals: [(before: Int, refusal: HostRefusal)],
                       findings: FindingEvaluator?, clock: ReportClock?) throws -> [Result<IngestOutcome, any Error>] {
        let batch = IngestBatch(batch)
        let stored = try storing {
            try writer.write { db in
                try batch.store(refusals: refusals, record: { try Self.record($0, in: db) }) { request, collectedAt in
                    guard request.writesPartway else {
                        return try Self.transaction(request, collectedAt: collectedAt, findings: findings,
                                                    clock: clock, in: db)
                    }
                    var outcome = IngestOutcome.duplicate
                    try db.inSavepoint {
                        outcome = try Self.transaction(request, collectedAt: collectedAt, findings: findings,
                                                       clock: clock, in: db)
                        return .commit
                    }
                    return outcome
                }
            }
        }
        return batch.results(stored)
    }

    /// One report alone, without blocking the caller's thread while SQLite writes.
    public func ingest(_ request: IngestRequest, findings: FindingEvaluator?, clock: ReportClock?) async throws -> IngestOutcome {
        let collectedAt = try request.preparedTime()
        return try await storing {
            try await writer.write { db in
                try Self.transaction(request, collectedAt: collectedAt, findings: findings, clock: clock, in: db)
            }
        }
    }

    /// `body`'s result; the errors that say "the storage" rather than "the report" become
    /// `StorageUnavailable`.
    private func storing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw StorageUnavailable(error) ?? error }
    }

    private func storing<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw StorageUnavailable(error) ?? error }
    }

    /// The snapshot stored and, unless it was a duplicate, evaluated: one transaction. An
    /// unchanged report moves the host's times and receipts only: what evaluating it would
    /// give was written when its state was stored (`HostRecord.stateDigest` says so).
    private static func transaction(_ request: IngestRequest, collectedAt: Int64,
                                    findings: FindingEvaluator?, clock: ReportClock?, in db: Database) throws -> IngestOutcome {
        let snapshot: Snapshot
        switch request.content {
        case .snapshot(let full): snapshot = full
        case .unchanged(let report):
            return try storeUnchanged(request, report, collectedAt: collectedAt, clock: clock, in: db)
        }
        let (outcome, hostId, evaluatedAt, held) = try store(request, snapshot, collectedAt: collectedAt,
                                                             clock: clock, in: db)
        if let hostId, let findings {
            try evaluateFindings(snapshot, listeners: held, host: request.host, hostId: hostId, at: evaluatedAt,
                                 evaluate: findings, in: db)
        }
        return outcome
    }

    /// An unchanged report: a duplicate, a state the host does not hold (nothing written),
    /// or its times and receipt run moved as the full snapshot's would have been.
    private static func storeUnchanged(_ request: IngestRequest, _ report: UnchangedReport, collectedAt sent: Int64, clock: ReportClock?,
                                       in db: Database) throws -> IngestOutcome {
        let sequence = try IngestDecisions.sequence(report.sequence)
        let stored = try HostRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM host WHERE name = ?"), arguments: [request.host])
        if IngestDecisions.isDuplicate(stored, bootID: report.bootID, sequence: sequence) { return .duplicate }
        guard var host = stored, IngestDecisions.holdsState(host, report.stateDigest, evaluatedUnder: request.evaluatedUnder,
                                                             at: max(sent, request.receivedAt)) else { return .stateUnknown }
        let collectedAt = try clock?.check(collectedAt: sent, sequence: sequence, receivedAt: request.receivedAt, stored: stored) ?? sent
        try clearRefusal(host: request.host, in: db)
        host.apply(unchanged: report, collectedAt: collectedAt, receivedAt: request.receivedAt, sequence: sequence,
                   clocked: clock != nil)
        try host.updateReported(db)
        try recordReceipt(request, hostId: host.id!, bootID: report.bootID, sequence: sequence, collectedAt: collectedAt,
                          continuing: true, in: db)
        return .unchanged
    }

    /// The report in the host's receipts: its newest run extended when `continuing` and the
    /// run is of the same boot, otherwise a run of its own.
    private static func recordReceipt(_ request: IngestRequest, hostId: Int64, bootID: String?, sequence: Int64?, collectedAt: Int64,
                                      continuing: Bool, in db: Database) throws {
        let latest = try ReceiptRun.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM receiptRun WHERE hostId = ? ORDER BY id DESC LIMIT 1"), arguments: [hostId])
        if continuing, var run = latest, run.continues(bootID: bootID) {
            run.extend(sequence: sequence, digest: request.bodyDigest, collectedAt: collectedAt, receivedAt: request.receivedAt)
            try run.updateExtended(db)
        } else {
            try ReceiptRun.first(hostId: hostId, bootID: bootID, sequence: sequence, digest: request.bodyDigest,
                                 collectedAt: collectedAt, receivedAt: request.receivedAt).insertRow(db)
        }
    }

    /// The outcome, the host's id unless there is nothing to evaluate (a duplicate, nothing
    /// written; or a snapshot of the state the host holds, `IngestDecisions.restates`: its
    /// times and receipts moved, as an unchanged report's), the listeners as the history
    /// holds them (`HeldListeners`), and the time to evaluate
    /// its findings at: the time it was stored at (`ReportClock`:
    /// never before the host's newest), or the host's last re-evaluation that changed its
    /// findings, if later — a spooled report delivered after a reload or a lapsed waiver
    /// must not write finding history before what that re-evaluation wrote.
    private static func store(_ request: IngestRequest, _ snapshot: Snapshot, collectedAt sent: Int64,
                              clock: ReportClock?, in db: Database) throws -> (IngestOutcome, Int64?, Int64, [Listener]) {
        let name = request.host, receivedAt = request.receivedAt
        let sequence = try IngestDecisions.sequence(snapshot.sequence)
        // Statements written out and cached: this runs for every report, and building
        // them through the query interface each time was a third of an unchanged report.
        let stored = try HostRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM host WHERE name = ?"), arguments: [name])
        if IngestDecisions.isDuplicate(stored, bootID: snapshot.host.bootID, sequence: sequence) {
            return (.duplicate, nil, sent, [])
        }
        // A forgotten host: nothing it still sends on a connection opened before its
        // certificates were revoked is kept. With a certificate issued since (an operator
        // approved the name again) it starts a new life.
        if let stored, stored.retiredAt != nil {
            guard IngestDecisions.mayReturn(stored, sent: sent), try returns(stored, at: receivedAt, db) else {
                return (.duplicate, nil, sent, [])
            }
        }
        let collectedAt = try clock?.check(collectedAt: sent, sequence: sequence, receivedAt: receivedAt, stored: stored) ?? sent
        try clearRefusal(host: name, in: db)
        let restated = IngestDecisions.restates(stored, request, at: max(sent, receivedAt))
        var host = stored ?? .first(name, sent: sent, receivedAt: receivedAt, complete: snapshot.complete)
        let labelsChanged = host.apply(snapshot, collectedAt: collectedAt, receivedAt: receivedAt, sequence: sequence,
                                       clocked: clock != nil)
        host.holdState(request.stateDigest, evaluatedUnder: request.evaluatedUnder)
        if host.id == nil { try host.insert(db) } else { try host.updateReported(db) }
        let hostId = host.id!
        if restated {
            try recordReceipt(request, hostId: hostId, bootID: snapshot.host.bootID, sequence: sequence, collectedAt: collectedAt,
                              continuing: true, in: db)
            return (.unchanged, nil, collectedAt, [])
        }
        if labelsChanged {
            // Labels over time, for replay; a second change in the same second replaces the first.
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO hostLabels (hostId, since, labels) VALUES (?, ?, ?)")
                .execute(arguments: [hostId, collectedAt, host.labels])
        }

        var open: [String: OpenInterval] = [:]
        let openRows = try Row.fetchCursor(db.cachedStatement(sql: OpenIntervalQueries.listenerMarks), arguments: [hostId])
        while let row = try openRows.next() {
            open[row[1]] = OpenInterval(id: row[0], netns: UInt64(bitPattern: row[2]), unseenSince: row[3], ownersUnseenSince: row[4])
        }
        let held = try HeldListeners(snapshot, observed: Observation.all(in: snapshot), open: open) {
            try ListenerInterval.fetchAll(db, sql: OpenIntervalQueries.ownedListeners, arguments: [hostId])
        }
        let changes = ListenerChanges(held, open: open, snapshot: snapshot, hostId: hostId, at: collectedAt)
        for interval in changes.opened { try interval.insertRow(db) }
        let close = try db.cachedStatement(sql: "UPDATE listenerInterval SET closed = ? WHERE id = ?")
        for id in changes.closed { try close.execute(arguments: [collectedAt, id]) }
        let mark = try db.cachedStatement(sql: "UPDATE listenerInterval SET unseenSince = ?, ownersUnseenSince = ? WHERE id = ?")
        for marks in changes.marked { try mark.execute(arguments: [marks.unseenSince, marks.ownersUnseenSince, marks.id]) }

        let outcome = changes.outcome(labelsChanged: labelsChanged, newHost: stored == nil)
        let evaluatedAt = host.evaluationTime(collectedAt: collectedAt)
        try recordReceipt(request, hostId: hostId, bootID: snapshot.host.bootID, sequence: sequence, collectedAt: collectedAt,
                          continuing: changes.keepsRun, in: db)
        return (outcome, hostId, evaluatedAt, held.listeners)
    }
}

/// A listener as the history keys it.
struct Observation: Sendable {
    var identity: String
    var listener: Listener
    var owners: String

    /// The owners without pids, sorted and unique: restarting a daemon is not a change.
    /// A finding also keeps each owner's command line (`cmdline`), for the people who
    /// must find the process; a listener's identity never includes it.
    struct OwnerIdentity: Codable, Hashable, Comparable, Sendable {
        var name: String
        var exe: String?
        var user: String?
        var unit: String?
        var container: String?
        var cmdline: [String]? = nil

        static func < (a: Self, b: Self) -> Bool {
            (a.name, a.exe ?? "", a.user ?? "", a.unit ?? "", a.container ?? "", (a.cmdline ?? []).joined(separator: "\u{0}"))
                < (b.name, b.exe ?? "", b.user ?? "", b.unit ?? "", b.container ?? "", (b.cmdline ?? []).joined(separator: "\u{0}"))
        }
    }

    /// Every listener of a snapshot by identity (sockets sharing one, as with
    /// SO_REUSEPORT, are one observation).
    static func all(in snapshot: Snapshot) -> [String: Observation] {
        var observations: [String: Observation] = [:]
        for listener in snapshot.listeners {
            let observation = Observation(listener)
            observations[observation.identity] = observation
        }
        return observations
    }

    init(_ listener: Listener) {
        self.listener = listener
        owners = OwnerIdentities.json(listener.processes)
        identity = Self.identity(listener, owners: owners)
    }

    /// Namespace, protocol, family, address, port, owners, then the socket facts.
    private static func identity(_ listener: Listener, owners: String) -> String {
        "\(listener.netns) \(listener.transport.rawValue) \(listener.family.rawValue) "
            + "[\(listener.address)]:\(listener.port) \(owners)" + socketFacts(uid: listener.uid, foundBy: listener.foundBy.rawValue,
                                                                               hostNetns: listener.hostNetns)
    }

    /// The identity of `listener` whoever holds it: what a listener shown without owners
    /// shares with the interval that knew them (`HeldListeners`).
    static func socket(_ listener: Listener) -> String { identity(listener, owners: "?") }

    /// The rest of what a rule reads of a socket (v8): its uid, how it was found and
    /// whether its namespace is the host's. Part of the identity, so that what ingest
    /// evaluates is what the history keeps — a daemon now running its socket as another
    /// uid is a new listener, not the old one remembered. Only what differs from uid 0,
    /// procfs and the host's namespace is written: most identities stay as v7 wrote them,
    /// and v8-fidelity appends the same text to the other open intervals'.
    static func socketFacts(uid: UInt32, foundBy: String, hostNetns: Bool) -> String {
        (uid == 0 ? "" : " uid=\(uid)") + (foundBy == "procfs" ? "" : " found_by=\(foundBy)") + (hostNetns ? "" : " not-host-netns")
    }

    func interval(hostId: Int64, opened: Int64) -> ListenerInterval {
        ListenerInterval(hostId: hostId, identity: identity, netns: Int64(bitPattern: listener.netns),
                         hostNetns: listener.hostNetns, protocol: listener.transport.rawValue,
                         family: listener.family.rawValue, address: listener.address, port: Int(listener.port),
                         scope: listener.scope.rawValue, owners: OwnerIdentities.json(listener.processes, withCommandLines: true),
                         opened: opened, uid: Int64(listener.uid), foundBy: listener.foundBy.rawValue)
    }
}

/// Keys sorted and absent values left out — the stored identities were first written
/// by JSONEncoder with `.sortedKeys`, and must keep matching.
extension Observation.OwnerIdentity: WireEncodable {
    func write(to w: inout JSONWriter) {
        w.beginObject()
        if let cmdline { w.key(CodingKeys.cmdline); w.value(cmdline) }
        if let container { w.key(CodingKeys.container); w.value(container) }
        if let exe { w.key(CodingKeys.exe); w.value(exe) }
        w.key(CodingKeys.name); w.value(name)
        if let unit { w.key(CodingKeys.unit); w.value(unit) }
        if let user { w.key(CodingKeys.user); w.value(user) }
        w.endObject()
    }
}

extension Observation.OwnerIdentity: WireDecodable {
    /// The mirror of `write(to:)`, for re-evaluating stored listeners without Foundation.
    init(wire r: inout WireReader) throws(WireError) {
        var name: String?, exe: String?, user: String?, unit: String?, container: String?, cmdline: [String]?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.name.stringValue: name = try r.string()
            case CodingKeys.exe.stringValue: exe = try r.optionalString()
            case CodingKeys.user.stringValue: user = try r.optionalString()
            case CodingKeys.unit.stringValue: unit = try r.optionalString()
            case CodingKeys.container.stringValue: container = try r.optionalString()
            case CodingKeys.cmdline.stringValue: cmdline = try r.strings()
            default: try r.skip()
            }
        }
        guard let name else { throw r.missing(CodingKeys.name) }
        self.init(name: name, exe: exe, user: user, unit: unit, container: container, cmdline: cmdline)
    }
}
