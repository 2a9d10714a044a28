/// The one place that opens the history a collector is configured with: `database:` in
/// collector.yaml, a SQLite file today. A second implementation is chosen here (by what
/// `database` names), and nowhere else.
public enum HistoryStores {
    /// Opens the history, creating or migrating it: `serve` and `ca init` only (see
    /// `CollectorDatabase.open`). `migrated` hears which migrations this opening applied.
    public static func open(_ database: String, migrated: ([String]) -> Void = { _ in }) throws -> any HistoryStore {
        try CollectorDatabase.open(path: database, migrated: migrated)
    }

    /// The history as this release wrote it, for every other command: it must exist and be
    /// migrated, or `DatabaseUnusable` says what to do.
    public static func existing(_ database: String) throws -> any HistoryStore {
        try CollectorDatabase.existing(path: database)
    }

    /// A private, empty history that lives as long as the value: for tests and tools.
    public static func inMemory() throws -> any HistoryStore {
        try CollectorDatabase.inMemory()
    }
}
