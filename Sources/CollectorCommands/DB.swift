import ArgumentParser

/// `portwarden db`: the history's database itself, apart from what it holds.
struct DB: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or migrate the history's database, or move a SQLite history into PostgreSQL.",
        discussion: """
            The history is a SQLite file (portwarden.sqlite in the state directory, the default) \
            or a PostgreSQL database several collectors share (--database postgres://…, or \
            `database:` in the config). See docs/OPERATIONS.md, "PostgreSQL".
            """,
        subcommands: [Migrate.self, Copy.self])
}
