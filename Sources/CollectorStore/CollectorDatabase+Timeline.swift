import GRDB

extension CollectorDatabase {
    /// Each host with its listener intervals that were open at some time since `since`,
    /// oldest first: the timeline `policy replay` walks.
    public func listenerTimeline(since: Int64, host name: String?) throws -> [(host: HostRecord, intervals: [ListenerInterval])] {
        try reader.read { db in
            var hosts = HostRecord.order(HostRecord.Columns.name)
            if let name { hosts = hosts.filter(HostRecord.Columns.name == name) }
            let hostList = try hosts.fetchAll(db)
            // One query for the intervals of every host asked for, grouped here.
            var intervals = ListenerInterval
                .filter(ListenerInterval.Columns.closed == nil || ListenerInterval.Columns.closed > since)
                .order(ListenerInterval.Columns.opened, ListenerInterval.Columns.port)
            if name != nil { intervals = intervals.filter(hostList.compactMap(\.id).contains(ListenerInterval.Columns.hostId)) }
            let byHost = Dictionary(grouping: try intervals.fetchAll(db), by: \.hostId)
            return hostList.map { ($0, byHost[$0.id!] ?? []) }
        }
    }

    /// One host's record, or nil when it never reported.
    public func host(named name: String) throws -> HostRecord? {
        try reader.read { db in try HostRecord.filter(HostRecord.Columns.name == name).fetchOne(db) }
    }
}
