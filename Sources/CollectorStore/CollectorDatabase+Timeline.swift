internal import GRDB

extension CollectorDatabase {
    /// Each host with its listener intervals that were open at some time since `since`,
    /// oldest first: the timeline `policy replay` walks.
    public func listenerTimeline(since: Int64, host name: String?) throws -> [(host: HostRecord, intervals: [ListenerInterval])] {
        try reader.read { db in
            let hostList = try name.map { try HostRecord.named($0, db).map { [$0] } ?? [] } ?? HostRecord.fetchAll(db, orderedBy: "name")
            // One query for the intervals of every host asked for, grouped here.
            var sql = "SELECT * FROM listenerInterval WHERE (closed IS NULL OR closed > ?)"
            if name != nil { sql += " AND hostId IN (\(hostList.compactMap(\.id).map(String.init).joined(separator: ", ")))" }
            let intervals = try ListenerInterval.fetchAll(db, sql: sql + " ORDER BY opened, port", arguments: [since])
            let byHost = Dictionary(grouping: intervals, by: \.hostId)
            return hostList.map { ($0, byHost[$0.id!] ?? []) }
        }
    }

    /// One host's record, or nil when it never reported.
    public func host(named name: String) throws -> HostRecord? {
        try reader.read { db in try HostRecord.named(name, db) }
    }
}
