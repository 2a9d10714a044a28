internal import GRDB

extension CollectorDatabase {
    /// v8-fidelity: what a rule can read, kept so that evaluating the history again finds
    /// what ingest found. Adds a nullable column and a table; older rows keep what they had.
    static func migrateV8Fidelity(_ db: Database) throws {
        // Each listener's owners with their command lines: a finding opened by a policy
        // reload or a replay shows them as one opened at ingest does.
        try db.alter(table: "listenerInterval") { t in t.add(column: "ownersWithCommandLines", .text) }
        // The labels each host declared, from when: `policy replay` evaluates a host with
        // the labels it had then, not today's. Older hosts start with their newest labels,
        // from their first report (all that v7 knew).
        try db.create(table: "hostLabels") { t in
            t.belongsTo("host", onDelete: .cascade).notNull()
            t.column("since", .integer).notNull()
            t.column("labels", .text)  // JSON object; null when the host declared none
            t.primaryKey(["hostId", "since"])
        }
        try db.execute(sql: "INSERT INTO hostLabels (hostId, since, labels) SELECT id, firstSeen, labels FROM host WHERE labels IS NOT NULL")
    }
}
