internal import GRDB

/// What tests need of the SQLite file itself, and nothing else does.
@_spi(Testing)
extension CollectorDatabase {
    /// Holds the write lock of the database at `path` from a connection of its own, as
    /// another process would, while `body` runs: for tests of what ingest does meanwhile.
    public static func holdingWriteLock(path: String, while body: () throws -> Void) throws {
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            defer { try? db.execute(sql: "COMMIT") }
            try body()
        }
    }

    /// How SQLite runs each statement that reads a host's open intervals
    /// (`OpenIntervalQueries`): EXPLAIN QUERY PLAN's details, one line a statement.
    public func openIntervalQueryPlans() throws -> [String] {
        try reader.read { db in
            try OpenIntervalQueries.all.map { sql in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: [1]).map { $0["detail"] as String }
                    .joined(separator: "; ")
            }
        }
    }

    /// Creates the database at `path` as the release whose newest migration was
    /// `migration` left it, and opens it without migrating further.
    public static func create(path: String, migratedUpTo migration: String) throws -> CollectorDatabase {
        let pool = try DatabasePool(path: path, configuration: configuration)
        try migrator.migrate(pool, upTo: migration)
        return CollectorDatabase(migrated: pool)
    }
}
