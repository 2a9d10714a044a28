import Foundation
import PostgresClient

// Hosts as SQLite lists them (CollectorDatabase+Hosts.swift), in the same order: names
// compare byte by byte (`COLLATE "C"`, SQLite's BINARY) whatever the database's collation,
// and listeners of one port (53/tcp and 53/udp) by id, as SQLite's scan meets them.

extension PostgresHistory {
    public func host(named name: String) throws -> HostRecord? {
        try read { try Self.host(named: name, on: $0) }
    }

    public func hosts(now: Int64, staleAfter window: Int64) throws -> [(host: HostRecord, stale: Bool)] {
        try read { connection in
            try connection.query("SELECT * FROM host ORDER BY name COLLATE \"C\"").map { row in
                let host = try HostRecord(pg: row)
                return (host, host.isStale(at: now, after: window))
            }
        }
    }

    public func hosts(now: Int64, staleAfter window: Int64) async throws -> [(host: HostRecord, stale: Bool)] {
        try await detached { try self.hosts(now: now, staleAfter: window) }
    }

    public func hostCounts(now: Int64, staleAfter window: Int64) throws -> (all: Int, stale: Int, refusing: Int) {
        try read { connection in
            let row = try connection.query("""
                SELECT (SELECT COUNT(*) FROM host WHERE retiredAt IS NULL)
                           + (SELECT COUNT(*) FROM hostRefusal WHERE hostName NOT IN (SELECT name FROM host)) AS hosts,
                       (SELECT COUNT(*) FROM host WHERE $1 - lastReceived > $2 AND retiredAt IS NULL
                            AND name NOT IN (SELECT hostName FROM hostRefusal)) AS stale,
                       (SELECT COUNT(*) FROM hostRefusal
                            WHERE hostName NOT IN (SELECT name FROM host WHERE retiredAt IS NOT NULL)) AS refusing
                """, [now, window])[0]
            return (try row.value("hosts"), try row.value("stale"), try row.value("refusing"))
        }
    }

    public func openListeners(host name: String) throws -> [ListenerInterval] {
        try read { connection in
            try connection.query("""
                SELECT listenerInterval.* FROM listenerInterval JOIN host ON host.id = listenerInterval.hostId
                WHERE host.name = $1 AND listenerInterval.closed IS NULL ORDER BY listenerInterval.port, listenerInterval.id
                """, [name]).map(ListenerInterval.init(pg:))
        }
    }

    public func hostsWithOpenListeners() throws -> [(host: HostRecord, openListeners: Int)] {
        try read { connection in
            try connection.query("""
                SELECT host.*, (SELECT COUNT(*) FROM listenerInterval WHERE hostId = host.id AND closed IS NULL) AS openListeners
                FROM host ORDER BY name COLLATE "C"
                """).map { (try HostRecord(pg: $0), try $0.value("openListeners")) }
        }
    }

    public func receiptRuns(host name: String) throws -> [ReceiptRun] {
        try read { connection in
            try connection.query("""
                SELECT receiptRun.* FROM receiptRun JOIN host ON host.id = receiptRun.hostId WHERE host.name = $1
                ORDER BY receiptRun.id
                """, [name]).map(ReceiptRun.init(pg:))
        }
    }

    public func knowsName(_ name: String) throws -> Bool {
        try read { connection in
            try connection.query("""
                SELECT EXISTS (SELECT 1 FROM certificate WHERE hostName = $1) OR EXISTS (SELECT 1 FROM host WHERE name = $1)
                    OR EXISTS (SELECT 1 FROM hostTag WHERE hostName = $1) AS known
                """, [name])[0].value("known")
        }
    }

    /// The host called `name` as `connection` sees it; `locking` its row (`FOR UPDATE`)
    /// until the transaction ends, for a decision about the host that ingest must not
    /// interleave with.
    static func host(named name: String, locking: Bool = false, on connection: PGConnection) throws -> HostRecord? {
        try connection.query("SELECT * FROM host WHERE name = $1" + (locking ? " FOR UPDATE" : ""), [name])
            .first.map(HostRecord.init(pg:))
    }
}
