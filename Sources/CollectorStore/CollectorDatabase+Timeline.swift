internal import GRDB
import PortwardenModel

/// One host's history as `policy replay` walks it: its listener intervals and the labels
/// it declared over time.
public struct HostTimeline: Sendable {
    public var host: HostRecord
    /// Oldest first, then by port.
    public var intervals: [ListenerInterval]
    /// Each set of labels from when the host declared it, oldest first.
    public var labels: [LabelChange]

    public init(host: HostRecord, intervals: [ListenerInterval], labels: [LabelChange]) {
        self.host = host
        self.intervals = intervals
        self.labels = labels
    }

    /// The labels in force at `time`: the newest declared by then; none before the first.
    public func labels(at time: Int64) -> [String: String] {
        labels.last { $0.since <= time }?.labels ?? [:]
    }
}

/// Labels a host declared from `since` on (until its next change).
public struct LabelChange: Equatable, Sendable {
    public var since: Int64
    public var labels: [String: String]

    public init(since: Int64, labels: [String: String]) {
        self.since = since
        self.labels = labels
    }
}

extension CollectorDatabase {
    /// Each host with its listener intervals that were open at some time since `since`,
    /// oldest first, and its labels over time: the timeline `policy replay` walks.
    public func listenerTimeline(since: Int64, host name: String?) throws -> [HostTimeline] {
        try reader.read { db in
            let hostList = try name.map { try HostRecord.named($0, db).map { [$0] } ?? [] } ?? HostRecord.fetchAll(db, orderedBy: "name")
            // One query for the intervals of every host asked for, grouped here.
            var sql = "SELECT * FROM listenerInterval WHERE (closed IS NULL OR closed > ?)"
            if name != nil { sql += " AND hostId IN (\(hostList.compactMap(\.id).map(String.init).joined(separator: ", ")))" }
            let intervals = try ListenerInterval.fetchAll(db, sql: sql + " ORDER BY opened, port, id", arguments: [since])
            let byHost = Dictionary(grouping: intervals, by: \.hostId)
            var labels: [Int64: [LabelChange]] = [:]
            var labelSQL = "SELECT hostId, since, labels FROM hostLabels"
            if name != nil { labelSQL += " WHERE hostId IN (\(hostList.compactMap(\.id).map(String.init).joined(separator: ", ")))" }
            for row in try Row.fetchAll(db, sql: labelSQL + " ORDER BY hostId, since") {
                labels[row[0], default: []].append(LabelChange(since: row[1], labels: HostRecord.labelMap(row[2])))
            }
            return hostList.map { HostTimeline(host: $0, intervals: byHost[$0.id!] ?? [], labels: labels[$0.id!] ?? []) }
        }
    }

    /// One host's record, or nil when it never reported.
    public func host(named name: String) throws -> HostRecord? {
        try reader.read { db in try HostRecord.named(name, db) }
    }
}
