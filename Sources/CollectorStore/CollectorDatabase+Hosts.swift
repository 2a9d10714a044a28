internal import GRDB

extension CollectorDatabase {
    /// Every host with whether it is stale: nothing received for `window` seconds.
    /// A stale host's open intervals are not "still listening": nobody knows.
    public func hosts(now: Int64, staleAfter window: Int64) throws -> [(host: HostRecord, stale: Bool)] {
        try reader.read { db in try Self.hosts(db, now: now, staleAfter: window) }
    }

    public func hosts(now: Int64, staleAfter window: Int64) async throws -> [(host: HostRecord, stale: Bool)] {
        try await reader.read { db in try Self.hosts(db, now: now, staleAfter: window) }
    }

    private static func hosts(_ db: Database, now: Int64, staleAfter window: Int64) throws -> [(host: HostRecord, stale: Bool)] {
        try HostRecord.fetchAll(db, orderedBy: "name").map { ($0, $0.isStale(at: now, after: window)) }
    }

    /// How many hosts there are (those refused from their first report on included), and
    /// how many of them are stale and refusing (`HostState`'s rule, in SQL): `/metrics`
    /// asks at every scrape, without reading every host. Retired hosts are not counted.
    public func hostCounts(now: Int64, staleAfter window: Int64) throws -> (all: Int, stale: Int, refusing: Int) {
        try reader.read { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT (SELECT COUNT(*) FROM host WHERE retiredAt IS NULL)
                           + (SELECT COUNT(*) FROM hostRefusal WHERE hostName NOT IN (SELECT name FROM host)),
                       (SELECT COUNT(*) FROM host WHERE ? - lastReceived > ? AND retiredAt IS NULL
                            AND name NOT IN (SELECT hostName FROM hostRefusal)),
                       (SELECT COUNT(*) FROM hostRefusal WHERE hostName NOT IN (SELECT name FROM host WHERE retiredAt IS NOT NULL))
                """, arguments: [now, window])!
            return (row[0], row[1], row[2])
        }
    }

    /// The intervals still open on `host`.
    public func openListeners(host name: String) throws -> [ListenerInterval] {
        try reader.read { db in
            guard let host = try HostRecord.named(name, db) else { return [] }
            return try ListenerInterval.fetchAll(db, sql: OpenIntervalQueries.listeners, arguments: [host.id!])
        }
    }

    /// `host`'s receipt runs, oldest first.
    public func receiptRuns(host name: String) throws -> [ReceiptRun] {
        try reader.read { db in
            try ReceiptRun.fetchAll(db, sql: """
                SELECT receiptRun.* FROM receiptRun JOIN host ON host.id = receiptRun.hostId WHERE host.name = ?
                ORDER BY receiptRun.id
                """, arguments: [name])
        }
    }
}

extension HostRecord {
    /// The host called `name`, or nil when it never reported.
    static func named(_ name: String, _ db: Database) throws -> HostRecord? {
        try fetchOne(db, sql: "SELECT * FROM host WHERE name = ?", arguments: [name])
    }

    /// Nothing received for more than `window` seconds before `now`: what the host
    /// listens on is unknown, never compliant.
    public func isStale(at now: Int64, after window: Int64) -> Bool { now - lastReceived > window }
}
