import Foundation
import PostgresClient

// Receipt pruning and the consistency check (CollectorDatabase+Retention.swift, +Upkeep.swift).

extension PostgresHistory {
    /// Under READ COMMITTED a run an ingest adds meanwhile is not seen, and one it extends
    /// is checked again after its lock: a host's newest run is never deleted.
    @discardableResult
    public func pruneReceipts(receivedBefore cutoff: Int64) throws -> Int {
        try write { connection in
            try connection.execute("""
                DELETE FROM receiptRun
                WHERE lastReceived < $1
                  AND id NOT IN (SELECT MAX(id) FROM receiptRun GROUP BY hostId)
                """, [cutoff]).affectedRows
        }
    }

    /// PostgreSQL keeps its own pages sound (and says so in its log); what this checks is
    /// what the database cannot see or that an operator can act on: indexes left invalid
    /// (a failed build: the unique ones are what keeps intervals from doubling), pages
    /// that failed their checksum, and intervals of one listener or finding that overlap
    /// on a host (two collectors storing one host without serialising). At most `limit`
    /// overlaps are named, then how many more.
    public func integrityProblems() throws -> [String] {
        try read { connection in
            var problems: [String] = try connection.query("""
                SELECT indexrelid::regclass::text AS index FROM pg_index
                JOIN pg_class ON pg_class.oid = pg_index.indrelid
                WHERE pg_class.relnamespace = to_regnamespace(current_schema())::oid AND NOT (indisvalid AND indisready)
                ORDER BY 1
                """).map { "index \(try $0.value("index") as String) is invalid (a build that failed): REINDEX it" }
            let failures: Int64? = try connection.query("""
                SELECT checksum_failures FROM pg_stat_database WHERE datname = current_database()
                """).first?.value("checksum_failures")
            if let failures, failures > 0 {
                problems.append("\(failures) page(s) of this database failed their checksum: see PostgreSQL's log, restore from a backup")
            }
            for table in ["listenerInterval", "findingInterval"] { problems += try Self.overlaps(in: table, on: connection) }
            return problems
        }
    }

    static let limit = 100

    /// Intervals of one identity on one host that overlap: one opened before the one
    /// before it (in opening order) closed, or while it was still open. Named by row ids
    /// only: a host's name and a listener's text are the host's to choose, and this is printed.
    private static func overlaps(in table: String, on connection: PGConnection) throws -> [String] {
        let rows = try connection.query("""
            SELECT hostId, previous, id, COUNT(*) OVER () AS total FROM (
                SELECT hostId, id, opened,
                       LAG(id) OVER same AS previous, LAG(COALESCE(closed, \(Int64.max))) OVER same AS previousClosed
                FROM \(table) WINDOW same AS (PARTITION BY hostId, identity ORDER BY opened, id)) ordered
            WHERE opened < previousClosed
            ORDER BY hostId, id
            LIMIT \(limit)
            """)
        var problems = try rows.map { row in
            "\(table) rows \(try row.value("previous") as Int64) and \(try row.value("id") as Int64) (host id "
                + "\(try row.value("hostId") as Int64)) are one listener or finding at overlapping times"
        }
        if let total: Int = try rows.first?.value("total"), total > rows.count {
            problems.append("and \(total - rows.count) more overlapping \(table) rows")
        }
        return problems
    }
}

extension PostgresHistory {
    /// Whether this collector holds `PGLocks.upkeep`: a session-level advisory lock on a
    /// connection kept for it alone (not the pool's, whose connections come and go), so
    /// the lock lasts as long as this collector's session and no longer. When the collector
    /// stops or its process dies, its socket closes, PostgreSQL ends the session and the
    /// next collector to ask takes the lock; a machine lost whole is noticed by the server's
    /// `tcp_keepalives_*` settings (docs/OPERATIONS.md, "PostgreSQL").
    public func holdsUpkeep() -> Bool {
        upkeep.holds(conninfo: pool.conninfo)
    }
}
