internal import GRDB

extension CollectorDatabase {
    /// v9-retired: hosts can be retired (`hosts forget`), the intervals a retirement closed
    /// say so, and coverage counts by the collector's clock, not the hosts'.
    static func migrateV9Retired(_ db: Database) throws {
        try db.alter(table: "host") { t in
            // When the collector first stored a report of the host: coverage counts it from
            // then on, whatever its own clock said. Older hosts get their earliest known
            // receipt (a run's first report was received no later than its first
            // collection by a sound clock, nor after its last receipt).
            t.add(column: "firstReceived", .integer)
            // `hosts forget`: when, by whom and why; null while the host is in the fleet.
            t.add(column: "retiredAt", .integer)
            t.add(column: "retiredBy", .text)
            t.add(column: "retiredReason", .text)
        }
        try db.alter(table: "receiptRun") { t in t.add(column: "firstReceived", .integer) }
        try db.execute(sql: "UPDATE receiptRun SET firstReceived = MIN(firstCollected, lastReceived)")
        try db.execute(sql: """
            UPDATE host SET firstReceived = MIN(firstSeen, lastReceived,
                COALESCE((SELECT MIN(firstReceived) FROM receiptRun WHERE receiptRun.hostId = host.id), lastReceived))
            """)
        // How an interval was closed: null when a report no longer showed it (resolved),
        // `retired` when `hosts forget` closed it — reports never count that as a fix.
        try db.alter(table: "listenerInterval") { t in t.add(column: "closedAs", .text) }
        try db.alter(table: "findingInterval") { t in t.add(column: "closedAs", .text) }
    }
}
