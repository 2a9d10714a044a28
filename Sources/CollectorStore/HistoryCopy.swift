import Foundation
internal import GRDB
import PostgresClient

/// `portwarden db copy`: moves a whole SQLite history into PostgreSQL, table by table,
/// keeping every id (certificates, requests and findings refer to one another by them),
/// in one PostgreSQL transaction: the target holds all of it or none. The copy is
/// generic over the columns both schemas have (PostgreSQL's are SQLite's, folded to lower
/// case), so a column one side has and the other lacks stops it rather than being lost.
public enum HistoryCopy {
    /// One table's rows in the SQLite history and, after the copy, in PostgreSQL.
    public struct TableCount: Sendable, Equatable {
        public let table: String
        public let source: Int
        public let target: Int
    }

    /// The copy wrote other counts than it read: rolled back, nothing kept.
    public struct Mismatch: Error, CustomStringConvertible, Sendable {
        public let counts: [TableCount]
        public var description: String {
            let wrong = counts.filter { $0.source != $0.target }.map { "\($0.table) \($0.source) → \($0.target)" }
            return "the copy's row counts differ (\(wrong.joined(separator: ", "))): nothing was kept; "
                + "report this with both databases' versions"
        }
    }

    /// The copy cannot go ahead as asked; the message says why and what to do.
    public struct Refused: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Every table of the history, parents before the rows that refer to them.
    static let tables = ["host", "receiptRun", "listenerInterval", "findingInterval", "hostLabels", "certificate",
                         "enrollmentRequest", "enrollmentCredential", "hostTag", "hostRefusal", "audit",
                         "policyVersion", "policyFile", "policyInForce"]

    /// Copies the SQLite history at `sqlitePath` (migrated by this release) into the
    /// PostgreSQL database `conninfo` names (its schema created or migrated first). A target
    /// already holding a history is refused unless `replacing`, which empties it in the same
    /// transaction. The counts per table, verified before the commit.
    public static func copy(from sqlitePath: String, to conninfo: String, replacing: Bool) throws -> [TableCount] {
        let source = try CollectorDatabase.existing(path: sqlitePath)
        let target = try PostgresHistory.open(conninfo)
        defer { target.pool.drain() }
        return try source.reader.read { db in
            let extra = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'
                """).filter { name in !tables.contains { $0.lowercased() == name.lowercased() } }
            guard extra.isEmpty else {
                throw Refused(description: "the SQLite history has tables this release does not copy (\(extra.joined(separator: ", "))): "
                              + "use the `portwarden` of the release that wrote it")
            }
            return try target.write { connection in
                // No collector decides on identity or migrates while the history moves in.
                try PGLocks.hold(PGLocks.migration, on: connection)
                try PGLocks.hold(PGLocks.identity, on: connection)
                try emptyTarget(connection, replacing: replacing, shown: target.shown)
                var counts: [TableCount] = []
                for table in tables {
                    let read = try copyTable(table, from: db, to: connection)
                    let written: Int64 = try connection.query("SELECT count(*) AS n FROM \(table)").first?.value("n") ?? 0
                    counts.append(TableCount(table: table, source: read, target: Int(written)))
                }
                guard counts.allSatisfy({ $0.source == $0.target }) else { throw Mismatch(counts: counts) }
                return counts
            }
        }
    }

    /// Refuses a target holding any history (a second fleet's, or this one's copied before)
    /// unless `replacing`; then empties it, ids restarting.
    static func emptyTarget(_ connection: PGConnection, replacing: Bool, shown: String) throws {
        var held: [String] = []
        for table in tables {
            let rows: Int64 = try connection.query("SELECT count(*) AS n FROM \(table)").first?.value("n") ?? 0
            if rows > 0 { held.append("\(table) \(rows)") }
        }
        guard !held.isEmpty else { return }
        guard replacing else {
            throw Refused(description: "the PostgreSQL database \(shown) already holds a history (\(held.joined(separator: ", "))): "
                          + "copying into it would mix two; point --to at an empty database, or pass --force to replace "
                          + "everything it holds")
        }
        try connection.execute("TRUNCATE \(tables.joined(separator: ", ")) RESTART IDENTITY CASCADE")
    }

    /// PostgreSQL's columns that SQLite keeps implicitly, by table: what SQLite expression fills them.
    public static let derived = ["certificate": ["recorded": "rowid"]]

    /// Copies `table`'s rows in batches of bound INSERTs; how many it read. Its identity
    /// sequence then continues after the highest id copied.
    static func copyTable(_ table: String, from db: Database, to connection: PGConnection) throws -> Int {
        let columns = try connection.query("""
            SELECT column_name, data_type, is_identity FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position
            """, [table.lowercased()])
        let names: [String] = try columns.map { try $0.value("column_name") }
        let types: [String] = try columns.map { try $0.value("data_type") }
        let derived = Self.derived[table.lowercased()] ?? [:]
        let sqliteNames = try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map { (row: Row) -> String in (row["name"] as String).lowercased() }
            + derived.keys
        guard Set(sqliteNames) == Set(names) else {
            let differ = Set(sqliteNames).symmetricDifference(names).sorted()
            throw Refused(description: "the table \(table) has different columns in the two databases (\(differ.joined(separator: ", "))): "
                          + "open the SQLite history with this release first (`portwarden db migrate --database sqlite:PATH`)")
        }
        let perStatement = max(1, min(500, 30_000 / max(1, names.count)))
        var batch: [any PGParameter] = []
        var rows = 0
        func insert(_ count: Int) throws {
            let tuples = (0..<count).map { row in
                "(" + (0..<names.count).map { "$\(row * names.count + $0 + 1)" }.joined(separator: ", ") + ")"
            }
            try connection.execute("INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES "
                                   + tuples.joined(separator: ", "), batch)
            batch.removeAll(keepingCapacity: true)
        }
        let selected = names.map { name in derived[name].map { "\($0) AS \(name)" } ?? name }
        let cursor = try Row.fetchCursor(db, sql: "SELECT \(selected.joined(separator: ", ")) FROM \(table)")
        while let row = try cursor.next() {
            for (index, name) in names.enumerated() {
                batch.append(try parameter(row[index] as DatabaseValue, as: types[index], at: "\(table).\(name)"))
            }
            rows += 1
            if rows % perStatement == 0 { try insert(perStatement) }
        }
        if rows % perStatement != 0 { try insert(rows % perStatement) }
        let identities: [String] = try columns.map { try $0.value("is_identity") }
        for (index, name) in names.enumerated() where identities[index] == "YES" {
            try connection.execute("""
                SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(\(name)), 1), max(\(name)) IS NOT NULL) FROM \(table)
                """, [table.lowercased(), name])
        }
        return rows
    }

    /// A SQLite value as the PostgreSQL column of `type` takes it. SQLite keeps booleans
    /// as integers and may keep any value in any column; what cannot be said exactly is
    /// refused, naming the column.
    static func parameter(_ value: DatabaseValue, as type: String, at column: String) throws -> any PGParameter {
        // Optional results are mapped to `any PGParameter` themselves: an Optional is a
        // parameter too (NULL), and a value that did not convert must not become one.
        let converted: (any PGParameter)? = switch (value.storage, type) {
        case (.null, _): PGNull()
        case (.int64(let number), "boolean"): number != 0
        case (.int64(let number), "text"): String(number)
        case (.int64(let number), "bigint"): number
        case (.double(let number), "double precision"): number
        case (.double(let number), "bigint"): Int64(exactly: number).map { $0 as any PGParameter }
        case (.string(let text), "text"): text
        case (.string(let text), "bytea"): Data(text.utf8)
        case (.string(let text), "bigint"): Int64(text).map { $0 as any PGParameter }
        case (.blob(let data), "bytea"): data
        case (.blob(let data), "text"): String(data: data, encoding: .utf8).map { $0 as any PGParameter }
        default: nil
        }
        guard let converted else {
            throw Refused(description: "\(column) holds \(value) in the SQLite history, which PostgreSQL's \(type) column "
                          + "cannot take as it is: repair that row (sqlite3), then copy again")
        }
        return converted
    }
}
