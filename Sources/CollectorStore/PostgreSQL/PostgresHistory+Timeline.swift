import Foundation
import PostgresClient

// The timeline and the export readers, in SQLite's order (CollectorDatabase+Timeline.swift,
// +Exports.swift) so reports and exports come out byte for byte the same on both: host
// names byte by byte (`COLLATE "C"`), then opening time, port and id. Each reads in one
// REPEATABLE READ transaction (one view while ingest goes on committing); the `forEach…`
// readers walk a cursor, a batch of rows in memory at a time.

extension PostgresHistory {
    public func listenerTimeline(since: Int64, host name: String?) throws -> [HostTimeline] {
        try read { connection in
            let hosts: [HostRecord]
            if let name {
                guard let host = try Self.host(named: name, on: connection) else { return [] }
                hosts = [host]
            } else {
                hosts = try connection.query("SELECT * FROM host ORDER BY name COLLATE \"C\"").map(HostRecord.init(pg:))
            }
            let only = name == nil ? "" : " AND hostId = $2"
            let parameters: [any PGParameter] = name == nil ? [since] : [since, hosts[0].id!]
            let intervals = try connection.query("""
                SELECT * FROM listenerInterval WHERE (closed IS NULL OR closed > $1)\(only) ORDER BY opened, port, id
                """, parameters).map(ListenerInterval.init(pg:))
            let byHost = Dictionary(grouping: intervals, by: \.hostId)
            var labels: [Int64: [LabelChange]] = [:]
            let labelRows = try connection.query("""
                SELECT hostId, since, labels FROM hostLabels WHERE $1::BIGINT IS NULL OR hostId = $1 ORDER BY hostId, since
                """, [name == nil ? nil : hosts[0].id])
            for row in labelRows {
                labels[try row.value("hostId"), default: []].append(
                    LabelChange(since: try row.value("since"), labels: HostRecord.labelMap(try row.value("labels"))))
            }
            return hosts.map { HostTimeline(host: $0, intervals: byHost[$0.id!] ?? [], labels: labels[$0.id!] ?? []) }
        }
    }

    public func forEachListenerInterval(since: Int64, until: Int64,
                                        _ body: (_ host: String, _ interval: ListenerInterval) throws -> Void) throws {
        try forEachInterval(table: "listenerInterval", since: since, until: until) { try body($0, try ListenerInterval(pg: $1)) }
    }

    public func forEachFindingInterval(since: Int64, until: Int64,
                                       _ body: (_ host: String, _ finding: FindingInterval) throws -> Void) throws {
        try forEachInterval(table: "findingInterval", since: since, until: until) { try body($0, try FindingInterval(pg: $1)) }
    }

    public func forEachReceiptRun(since: Int64, until: Int64, _ body: (_ host: String, _ run: ReceiptRun) throws -> Void) throws {
        try forEachNamedRow("""
            SELECT host.name AS hostName, receiptRun.*
            FROM receiptRun JOIN host ON host.id = receiptRun.hostId
            WHERE receiptRun.lastReceived >= $1 AND receiptRun.firstCollected < $2
            ORDER BY host.name COLLATE "C", receiptRun.id
            """, [since, until]) { try body($0, try ReceiptRun(pg: $1)) }
    }

    public func forEachReportingSpan(since: Int64, until: Int64,
                                     _ body: (_ hostId: Int64, _ first: Int64, _ last: Int64) throws -> Void) throws {
        try read { connection in
            try connection.forEachRow("""
                SELECT hostId, firstReceived, lastReceived FROM receiptRun WHERE lastReceived >= $1 AND firstReceived < $2
                """, [since, until]) { row in
                try body(try row.value("hostId"), try row.value("firstReceived"), try row.value("lastReceived"))
            }
        }
    }

    /// Rows of an interval table overlapping [since, until): opened before `until`, and
    /// open or closed after `since` — the test the timeline and replay use.
    private func forEachInterval(table: String, since: Int64, until: Int64, _ body: (String, PGRow) throws -> Void) throws {
        try forEachNamedRow("""
            SELECT host.name AS hostName, \(table).*
            FROM \(table) JOIN host ON host.id = \(table).hostId
            WHERE \(table).opened < $1 AND (\(table).closed IS NULL OR \(table).closed > $2)
            ORDER BY host.name COLLATE "C", \(table).opened, \(table).port, \(table).id
            """, [until, since], body)
    }

    /// Rows of `sql` (a `hostName` column, then a record's) handed to `body` through a cursor.
    private func forEachNamedRow(_ sql: String, _ parameters: [any PGParameter], _ body: (String, PGRow) throws -> Void) throws {
        try read { connection in
            try connection.forEachRow(sql, parameters) { row in try body(try row.value("hostName"), row) }
        }
    }
}
