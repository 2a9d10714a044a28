internal import GRDB

extension CollectorDatabase {
    /// SQLite's `PRAGMA integrity_check`: each problem it reports; empty when it says ok.
    public func integrityProblems() throws -> [String] {
        try reader.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").filter { $0 != "ok" } }
    }

    public func settle() throws {
        try writer.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
    }

    /// One collector writes a SQLite file: it does the periodic work.
    public func holdsUpkeep() -> Bool { true }

    /// The migrations of `migrations` applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try reader.read { db in try Self.migrator.appliedMigrations(db) }
    }
}
