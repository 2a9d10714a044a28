import ArgumentParser
import CollectorStore

extension DB {
    /// `portwarden db migrate`
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the history's schema, or bring it to this release's.",
            discussion: """
                Applies the migrations this release knows and the database lacks, and says which. \
                `serve` does the same as it starts; run this first to upgrade a PostgreSQL database \
                that several collectors share (a rolling upgrade) or to create one before any \
                collector starts. Collectors starting together, or this run beside them, migrate \
                once: the others wait, then find nothing to do. A database a newer release \
                migrated is refused (exit 3), naming its schema version.
                """)

        @OptionGroup var state: StateOptions

        func run() throws {
            let database = try state.databasePath()
            let shown = PostgresTarget.redacted(database)
            if shown != database {
                printError("warning: the connection string carries a password (shown as ***): keep it in ~/.pgpass "
                           + "(or the file PGPASSFILE names) and leave it out of the string")
            }
            var applied: [String] = []
            let history = try HistoryStores.open(database) { applied = $0 }
            let schema = try history.appliedMigrations().last ?? "none"
            try history.settle()
            if applied.isEmpty {
                print("\(shown): the schema is current (\(schema)); nothing to apply")
            } else {
                print("\(shown): applied \(applied.joined(separator: ", ")); the schema is now \(schema)")
            }
        }
    }
}
