internal import GRDB

extension CollectorDatabase {
    /// v9-policy: the policy the collector evaluated with, kept in the history it explains.
    /// Reports read rule texts and tags from here, not from whatever directory they run
    /// in. Older findings name versions (their `policyVersion` digest) never recorded:
    /// reports fall back to the newest recorded version for them.
    static func migrateV9Policy(_ db: Database) throws {
        // A version is its files' content, addressed by their digest (the one findings
        // carry): loading the same files again adds nothing.
        try db.create(table: "policyVersion") { t in
            t.column("digest", .text).primaryKey()
            t.column("recordedAt", .integer).notNull()
        }
        try db.create(table: "policyFile") { t in
            t.column("version", .text).notNull().references("policyVersion", column: "digest", onDelete: .cascade)
            t.column("path", .text).notNull()  // relative to the policy directory: it decides what the file is
            t.column("content", .blob).notNull()
            t.primaryKey(["version", "path"])
        }
        // Which version was in force from when, in the order serve loaded them; a null
        // version is a period evaluated under no policy (`serve --no-policy`).
        try db.create(table: "policyInForce") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("since", .integer).notNull()
            t.column("version", .text).references("policyVersion", column: "digest")
        }
    }
}
