internal import GRDB

extension CollectorDatabase {
    /// v8-fidelity: what a rule can read, kept so that evaluating the history again finds
    /// what ingest found. Adds a nullable column and a table; open listener intervals'
    /// identities gain their socket facts; older rows otherwise keep what they had.
    static func migrateV8Fidelity(_ db: Database) throws {
        // From v8 on, a listener interval's `owners` keeps each owner's command line as
        // first seen (as a finding's always did), so a finding opened by a reload shows
        // them as one opened at ingest does; the identity still leaves them out.
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
        // A listener's identity now ends with its uid, how it was found and whether its
        // namespace is the host's, where they are not 0, procfs and the host's
        // (`Observation.socketFacts`); the open intervals learn theirs, so the next report
        // of an unchanged host matches them (rows older than v4 knew no uid: 0, found
        // through procfs, as re-evaluation always took them).
        // Closed intervals keep the identity they closed with: nothing matches them again.
        try db.execute(sql: """
            UPDATE listenerInterval
            SET identity = identity || CASE WHEN COALESCE(uid, 0) = 0 THEN '' ELSE ' uid=' || uid END
                || CASE WHEN COALESCE(foundBy, 'procfs') = 'procfs' THEN '' ELSE ' found_by=' || foundBy END
                || CASE WHEN hostNetns THEN '' ELSE ' not-host-netns' END
            WHERE closed IS NULL AND (COALESCE(uid, 0) != 0 OR COALESCE(foundBy, 'procfs') != 'procfs' OR NOT hostNetns)
            """)
        // When a re-evaluation (a reload, a lapsed waiver) last opened or resolved one of
        // a host's findings: a report dated before it, delivered late from a spool, is
        // evaluated as of then, so finding history is written forwards only.
        try db.alter(table: "host") { t in t.add(column: "findingsChangedAt", .integer) }
    }
}
