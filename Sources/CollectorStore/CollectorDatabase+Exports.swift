internal import GRDB

/// Reads for exports and reports: each walks its rows with a cursor inside one read
/// transaction — a consistent view, memory bounded by a row, and (WAL) ingest goes on
/// writing meanwhile.
extension CollectorDatabase {
    /// Listener intervals that overlap [since, until), with their host's name, by host
    /// then opening time.
    public func forEachListenerInterval(since: Int64, until: Int64,
                                        _ body: (_ host: String, _ interval: ListenerInterval) throws -> Void) throws {
        try forEachInterval(since: since, until: until, body)
    }

    /// Finding intervals that overlap [since, until), with their host's name, by host
    /// then opening time.
    public func forEachFindingInterval(since: Int64, until: Int64,
                                       _ body: (_ host: String, _ finding: FindingInterval) throws -> Void) throws {
        try forEachInterval(since: since, until: until, body)
    }

    /// Rows of an interval table overlapping [since, until): opened before `until`, and
    /// open or closed after `since` — the same test the timeline and replay use.
    private func forEachInterval<Interval: RowRecord>(
        since: Int64, until: Int64, _ body: (String, Interval) throws -> Void) throws {
        let table = Interval.databaseTableName
        try forEachRecord(sql: """
            SELECT host.name AS hostName, \(table).*
            FROM \(table) JOIN host ON host.id = \(table).hostId
            WHERE \(table).opened < ? AND (\(table).closed IS NULL OR \(table).closed > ?)
            ORDER BY host.name, \(table).opened, \(table).port, \(table).id
            """, arguments: [until, since], body)
    }

    /// Receipt runs extended within [since, until), with their host's name.
    public func forEachReceiptRun(since: Int64, until: Int64,
                                  _ body: (_ host: String, _ run: ReceiptRun) throws -> Void) throws {
        try forEachRecord(sql: """
            SELECT host.name AS hostName, receiptRun.*
            FROM receiptRun JOIN host ON host.id = receiptRun.hostId
            WHERE receiptRun.lastReceived >= ? AND receiptRun.firstCollected < ?
            ORDER BY host.name, receiptRun.id
            """, arguments: [since, until], body)
    }

    /// Rows of `sql` (a `hostName` column, then a record's columns) handed to `body`.
    private func forEachRecord<Record: RowRecord>(sql: String, arguments: StatementArguments,
                                                        _ body: (String, Record) throws -> Void) throws {
        try reader.read { db in
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() { try body(row["hostName"], try Record(row: row)) }
        }
    }

    /// Every host with its open-listener count, by name.
    public func hostsWithOpenListeners() throws -> [(host: HostRecord, openListeners: Int)] {
        try reader.read { db in
            let counts = try Row.fetchAll(db, sql: """
                SELECT hostId, COUNT(*) FROM listenerInterval WHERE closed IS NULL GROUP BY hostId
                """).reduce(into: [Int64: Int]()) { $0[$1[0]] = $1[1] }
            return try HostRecord.fetchAll(db, orderedBy: "name").map { ($0, counts[$0.id!] ?? 0) }
        }
    }
}

extension CollectorDatabase {
    /// When each host was reporting, by the collector's clock: every receipt run received
    /// within [since, until) as (host id, first received, last received) — plain integers,
    /// for reports that walk hundreds of thousands of runs.
    public func forEachReportingSpan(since: Int64, until: Int64,
                                     _ body: (_ hostId: Int64, _ first: Int64, _ last: Int64) throws -> Void) throws {
        try reader.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT hostId, firstReceived, lastReceived FROM receiptRun WHERE lastReceived >= ? AND firstReceived < ?
                """, arguments: [since, until])
            while let row = try rows.next() {
                try body(row[0], row[1], row[2])
            }
        }
    }
}
