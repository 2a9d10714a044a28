import ArgumentParser
import CollectorServer
import CollectorStore

/// Where the collector keeps its CA, certificates and database: a state directory, and
/// optionally a config file naming it (and the serve settings).
struct StateOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The collector's config file (see Collector/collector.yaml); flags override it.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("The collector's state: CA, certificates, database (default /var/lib/portwarden).", valueName: "dir"))
    var stateDir: String?

    @Option(help: ArgumentHelp("""
        The history: a SQLite file, or a PostgreSQL connection string (postgres://… or libpq's key=value; the password in \
        ~/.pgpass or PGPASSFILE, not here). Default: the config's `database:`, else portwarden.sqlite in the state directory.
        """, valueName: "database"))
    var database: String?

    /// The config file, or an empty one when none is given.
    func file() throws -> CollectorConfig {
        guard let config else { return CollectorConfig() }
        do { return try CollectorConfig(path: config) } catch { throw ValidationError("\(error)") }
    }

    /// The state directory's files; `file` when the caller read the config already.
    func files(_ file: CollectorConfig? = nil) throws -> CollectorFiles {
        CollectorFiles(directory: try stateDir ?? (file ?? self.file()).stateDir ?? "/var/lib/portwarden")
    }

    /// The history database: --database, else `database:` from the config, else
    /// portwarden.sqlite in the state directory. A PostgreSQL connection string may carry
    /// a password: what is shown of it is `shownDatabase`.
    func databasePath(_ file: CollectorConfig? = nil) throws -> String {
        if let database { return database }
        let file = try file ?? self.file()
        return try file.database ?? files(file).database
    }

    /// The history database as messages may show it: a connection string's password hidden.
    func shownDatabase(_ file: CollectorConfig? = nil) throws -> String {
        PostgresTarget.redacted(try databasePath(file))
    }
}
