/// The one place that opens the history a collector is configured with: `database:` in
/// collector.yaml (or `--database`), a SQLite file or a PostgreSQL connection string
/// (`PostgresTarget`). The implementation is chosen here, and nowhere else.
public enum HistoryStores {
    /// Opens the history, creating or migrating it: `serve` and `ca init` only (see
    /// `CollectorDatabase.open`). `migrated` hears which migrations this opening applied.
    public static func open(_ database: String, migrated: ([String]) -> Void = { _ in }) throws -> any HistoryStore {
        if PostgresTarget.isPostgres(database) { return try PostgresHistory.open(database, migrated: migrated) }
        return try CollectorDatabase.open(path: sqlitePath(database), migrated: migrated)
    }

    /// The history as this release wrote it, for every other command: it must exist and be
    /// migrated, or `DatabaseUnusable` says what to do.
    public static func existing(_ database: String) throws -> any HistoryStore {
        if PostgresTarget.isPostgres(database) { return try PostgresHistory.existing(database) }
        return try CollectorDatabase.existing(path: sqlitePath(database))
    }

    /// A private, empty history that lives as long as the value: for tests and tools.
    public static func inMemory() throws -> any HistoryStore {
        try CollectorDatabase.inMemory()
    }

    /// A SQLite path, with the `sqlite:` that may say so removed.
    static func sqlitePath(_ database: String) -> String {
        database.hasPrefix("sqlite:") ? String(database.dropFirst("sqlite:".count)) : database
    }
}
