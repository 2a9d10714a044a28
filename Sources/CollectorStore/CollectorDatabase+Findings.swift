import Foundation
internal import GRDB
import PortwardenModel

/// One host as a policy sees it: its listeners, what operators said about its tags, the
/// labels its agent declared, and the time that decides which waivers hold.
public struct FindingSubject: Sendable {
    public var host: String
    public var listeners: [Listener]
    public var tags: TagEdits
    public var labels: [String: String]
    public var at: Date
    /// Where `listeners` is all the host had: only there may a finding not produced again
    /// be resolved (an incomplete snapshot may have missed its listener elsewhere).
    public var complete: Completeness

    public init(host: String, listeners: [Listener], tags: TagEdits, labels: [String: String], at: Date,
                complete: Completeness = true) {
        self.host = host
        self.listeners = listeners
        self.tags = tags
        self.labels = labels
        self.at = at
        self.complete = complete
    }
}

/// Decides what evaluating one host changes, given its open findings by identity; nil
/// when no policy is in force, and then no finding is opened or resolved. The Findings
/// module makes these (`PolicySet.findingEvaluator`).
public typealias FindingEvaluator = @Sendable (_ subject: FindingSubject, _ open: [String: OpenFinding]) -> FindingUpdate?

/// An open finding as an evaluation needs it: its interval, and the network namespace of
/// its listener — an evaluation that read only some namespaces in full may resolve it
/// only if it read this one.
public struct OpenFinding: Equatable, Sendable {
    public var id: Int64
    public var netns: UInt64

    public init(id: Int64, netns: UInt64) {
        self.id = id
        self.netns = netns
    }
}

/// What one evaluation did to the finding intervals.
public struct FindingChanges: Equatable, Sendable {
    public var opened = 0
    public var resolved = 0

    public init(opened: Int = 0, resolved: Int = 0) {
        self.opened = opened
        self.resolved = resolved
    }

    static func + (a: Self, b: Self) -> Self { Self(opened: a.opened + b.opened, resolved: a.resolved + b.resolved) }
}

extension CollectorDatabase {
    /// Evaluates every host's open listeners again, in one transaction, as if each had
    /// sent a complete snapshot at `now`: for a waiver that lapsed or a policy reloaded
    /// while no report arrived. Four reads for the whole fleet, none per host: the
    /// transaction holds ingest up while it runs.
    public func reevaluateFindings(at now: Date, evaluate: FindingEvaluator, stamp: EvaluationStamp?) throws -> FindingChanges {
        try writer.write { db in
            var changes = FindingChanges()
            let tags = try Self.allTagEdits(db)
            let open = try Self.openFindings(host: nil, db)
            let listeners = Dictionary(grouping: try ListenerInterval.fetchAll(db, sql: """
                SELECT * FROM listenerInterval WHERE closed IS NULL ORDER BY port
                """), by: \.hostId)
            for host in try HostRecord.fetchAll(db, orderedBy: "name") {
                let subject = FindingSubject(host: host.name, listeners: (listeners[host.id!] ?? []).map(\.listener),
                                             tags: tags[host.name] ?? TagEdits(), labels: host.labelMap, at: now)
                guard let update = evaluate(subject, open[host.id!] ?? [:]) else { return changes }
                let time = Int64(now.timeIntervalSince1970)
                changes = changes + (try Self.record(update, hostId: host.id!, at: time, in: db))
                if update != FindingUpdate() {
                    try db.execute(sql: "UPDATE host SET findingsChangedAt = ? WHERE id = ?", arguments: [time, host.id!])
                }
            }
            try db.execute(sql: "UPDATE host SET statePolicy = ?, stateUntil = ?", arguments: [stamp?.policy, stamp?.until])
            return changes
        }
    }

    /// Evaluates one freshly stored snapshot, inside ingest's transaction: `listeners` as
    /// the history holds them (`HeldListeners`).
    static func evaluateFindings(_ snapshot: Snapshot, listeners: [Listener], host name: String, hostId: Int64, at time: Int64,
                                 evaluate: FindingEvaluator, in db: Database) throws {
        let subject = FindingSubject(host: name, listeners: listeners, tags: try tagEdits(host: name, db),
                                     labels: snapshot.host.labels ?? [:], at: Date(timeIntervalSince1970: TimeInterval(time)),
                                     complete: Completeness(snapshot))
        guard let update = evaluate(subject, try openFindings(host: hostId, db)[hostId] ?? [:]) else { return }
        _ = try record(update, hostId: hostId, at: time, in: db)
    }

    /// The open findings by identity, by host id: of host `hostId`, or of every host. Ids,
    /// identities and namespaces only, as for listeners: most evaluations change nothing.
    private static func openFindings(host hostId: Int64?, _ db: Database) throws -> [Int64: [String: OpenFinding]] {
        let statement = try db.cachedStatement(sql: hostId == nil
            ? "SELECT hostId, id, identity, netns FROM findingInterval WHERE closed IS NULL"
            : OpenIntervalQueries.findings)
        var open: [Int64: [String: OpenFinding]] = [:]
        let rows = try Row.fetchCursor(statement, arguments: hostId.map { [$0] } ?? [])
        while let row = try rows.next() {
            open[row[0], default: [:]][row[2]] = OpenFinding(id: row[1], netns: UInt64(bitPattern: row[3]))
        }
        return open
    }

    /// Writes what an evaluation decided: an interval opened for each new finding, the
    /// resolved ones closed at `time`.
    static func record(_ update: FindingUpdate, hostId: Int64, at time: Int64, in db: Database) throws -> FindingChanges {
        for finding in update.open {
            var interval = finding.interval(hostId: hostId, opened: time)
            try interval.insert(db)
        }
        let resolve = try db.cachedStatement(sql: "UPDATE findingInterval SET closed = ? WHERE id = ? AND closed IS NULL")
        for id in update.resolve { try resolve.execute(arguments: [time, id]) }
        return FindingChanges(opened: update.open.count, resolved: update.resolve.count)
    }

    /// The findings open on `host` now, oldest first, then by port and rule.
    public func openFindings(host name: String) throws -> [FindingInterval] {
        try findings(host: name, openOnly: true)
    }

    /// Every finding interval of `host`, open or resolved, oldest first.
    public func findingHistory(host name: String) throws -> [FindingInterval] {
        try findings(host: name, openOnly: false)
    }

    private func findings(host name: String, openOnly: Bool) throws -> [FindingInterval] {
        try reader.read { db in
            guard let host = try HostRecord.named(name, db) else { return [] }
            return try FindingInterval.fetchAll(db, sql: """
                SELECT * FROM findingInterval WHERE hostId = ?\(openOnly ? " AND closed IS NULL" : "") ORDER BY opened, port, rule
                """, arguments: [host.id!])
        }
    }

    /// Open, unwaived findings by severity, for /metrics.
    public func openFindingCounts() throws -> [String: Int] {
        try reader.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT severity, COUNT(*) AS n FROM findingInterval WHERE closed IS NULL AND NOT waived GROUP BY severity
                """)
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["severity"] as String, $0["n"] as Int) })
        }
    }
}

extension HostRecord {
    /// `labels` decoded; empty when none.
    public var labelMap: [String: String] { Self.labelMap(labels) }

    /// Stored labels (a JSON object, or nil) decoded; empty when none.
    static func labelMap(_ labels: String?) -> [String: String] {
        labels.flatMap { text in
            var reader = WireReader(Array(text.utf8))
            return try? reader.optionalStringMapping()
        } ?? [:]
    }
}

extension ListenerInterval {
    /// The listener as a rule sees it again: owners without pids, with the command lines
    /// they were first seen with (none in rows older than v8), and (in rows older than v4)
    /// uid 0 found through procfs.
    public var listener: Listener {
        let uid = UInt32(clamping: self.uid ?? 0)
        return Listener(transport: Transport(rawValue: `protocol`) ?? .tcp, family: AddressFamily(rawValue: family) ?? .ipv4,
                        address: address, port: UInt16(clamping: port), scope: ExposureScope(rawValue: scope) ?? .specific,
                        netns: UInt64(bitPattern: netns), hostNetns: hostNetns, inode: 0, uid: uid,
                        processes: OwnerIdentities.owners(owners, uid: uid),
                        foundBy: foundBy.flatMap(Discovery.init(rawValue:)) ?? .procfs)
    }
}
