import Glibc
internal import GRDB

/// The collector's history: hosts, the receipt log, listener and finding intervals, and
/// operators' host tags. One writer
/// (a WAL `DatabasePool` on disk, so reports and exports read while ingest writes).
public struct CollectorDatabase: HistoryStore {
    let writer: any DatabaseWriter

    /// Opens (creating or migrating) the database at `path`, in WAL mode: what `serve` and
    /// `ca init` do. A migration may rewrite what an older release kept (v6 revokes
    /// look-alike names' certificates), so nothing else migrates: see `existing(path:)`.
    /// `migrated` hears which migrations this opening applied (none for a current database).
    public static func open(path: String, migrated: ([String]) -> Void = { _ in }) throws -> CollectorDatabase {
        let (database, pending) = try opening(path) {
            let pool = try DatabasePool(path: path, configuration: configuration)
            let applied = try pool.read { try migrator.appliedIdentifiers($0) }
            let database = try CollectorDatabase(pool)
            let pending = migrator.migrations.filter { !applied.contains($0) }
            // The reader that asked above knows the old schema: a statement it prepares
            // would expand `table.*` without the new columns.
            if !pending.isEmpty { pool.invalidateReadOnlyConnections() }
            return (database, pending)
        }
        if !pending.isEmpty { migrated(pending) }
        return database
    }

    /// The database at `path` as this release wrote it, for every command but `serve` and
    /// `ca init`: it must exist (a mistyped --state-dir must not start an empty fleet) and
    /// be migrated (an operator's `hosts list` must not upgrade the database under a
    /// running older collector).
    public static func existing(path: String) throws -> CollectorDatabase {
        guard access(path, F_OK) == 0 else { throw DatabaseUnusable.missing(path) }
        let (pool, applied, superseded) = try opening(path) {
            let pool = try DatabasePool(path: path, configuration: configuration)
            let (applied, superseded) = try pool.read { db in
                (try migrator.appliedIdentifiers(db), try migrator.hasBeenSuperseded(db))
            }
            return (pool, applied, superseded)
        }
        if superseded { throw DatabaseUnusable.newer(path) }
        let pending = migrator.migrations.filter { !applied.contains($0) }
        if !pending.isEmpty { throw DatabaseUnusable.older(path, pending: pending) }
        return CollectorDatabase(migrated: pool)
    }

    /// `body`, opening the database at `path`: SQLite's "unable to open database file" (and
    /// its kin) becomes which file, why and what to do, never "SQLite error 14".
    private static func opening<T>(_ path: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError
                    where [.SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH].contains(error.resultCode) {
            throw DatabaseUnusable.cannotOpen(path)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw DatabaseUnusable.cannotOpen(path, reason: "it is not a SQLite database: check the path (--database, or "
                                              + "`database:` in the config), or restore the database from a backup")
        }
    }

    static var configuration: Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        return configuration
    }

    /// A private in-memory database, for tests.
    public static func inMemory() throws -> CollectorDatabase {
        try CollectorDatabase(DatabaseQueue())
    }

    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    init(migrated writer: any DatabaseWriter) { self.writer = writer }

    /// The migrations this release knows, in order.
    public static var migrations: [String] { migrator.migrations }

    var reader: any DatabaseReader { writer }

    /// Named migrations; once shipped, never edited — add the next one instead.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "host") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()  // the certificate's common name
                t.column("machineID", .text)
                t.column("bootID", .text)
                t.column("kernel", .text)
                t.column("os", .text)
                t.column("firstSeen", .integer).notNull()
                t.column("lastSeen", .integer).notNull()  // collected_at of the newest snapshot
                t.column("lastReceived", .integer).notNull()
                t.column("lastSequence", .integer)
                t.column("complete", .boolean).notNull()
            }
            // One row per run of reports that changed no listener: an unchanged report
            // extends the run in place, so the log grows with change, not with time.
            try db.create(table: "receiptRun") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("host", onDelete: .cascade).notNull()
                t.column("bootID", .text)
                t.column("firstSequence", .integer)
                t.column("lastSequence", .integer)
                t.column("lastBodyDigest", .text).notNull()
                t.column("firstCollected", .integer).notNull()
                t.column("lastCollected", .integer).notNull()
                t.column("lastReceived", .integer).notNull()
                t.column("reports", .integer).notNull()
            }
            try db.create(table: "listenerInterval") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("host", onDelete: .cascade).notNull()
                t.column("identity", .text).notNull()
                t.column("netns", .integer).notNull()
                t.column("hostNetns", .boolean).notNull()
                t.column("protocol", .text).notNull()
                t.column("family", .text).notNull()
                t.column("address", .text).notNull()
                t.column("port", .integer).notNull()
                t.column("scope", .text).notNull()
                t.column("owners", .text).notNull()  // JSON: [{name, exe, user, unit, container}]
                t.column("opened", .integer).notNull()
                t.column("closed", .integer)  // null while the listener is still seen
            }
            try db.create(index: "listenerInterval_open", on: "listenerInterval", columns: ["hostId", "identity"],
                          unique: true, condition: Column("closed") == nil)
            try db.create(index: "listenerInterval_port", on: "listenerInterval", columns: ["port", "opened"])
        }
        migrator.registerMigration("v2") { db in
            // Every host certificate the collector issued, so one can be revoked by host name.
            try db.create(table: "certificate") { t in
                t.primaryKey("serial", .text)
                t.column("hostName", .text).notNull().indexed()
                t.column("fingerprint", .text).notNull()
                t.column("notAfter", .integer).notNull()
                t.column("issuedAt", .integer).notNull()
                t.column("revokedAt", .integer)
            }
        }
        migrator.registerMigration("v3") { db in
            // Enrollments that asked for a name already held by a valid certificate: they
            // wait for an operator, so the shared secret alone cannot take over a host.
            try db.create(table: "enrollmentRequest") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("hostName", .text).notNull().indexed()
                t.column("keyFingerprint", .text).notNull()
                t.column("requestedAt", .integer).notNull()
                t.column("approvedAt", .integer)
                t.column("issuedSerial", .text)
            }
        }
        migrator.registerMigration("v4") { db in
            // Tags an operator gave or took away (`portwarden hosts tag|untag`), by host
            // name so a host can be tagged before it first reports. `assigned` false is an
            // explicit removal: it overrides the inventory's globs.
            try db.create(table: "hostTag") { t in
                t.column("hostName", .text).notNull()
                t.column("tag", .text).notNull()
                t.column("folded", .text).notNull()  // lowercased: tags compare case-insensitively
                t.column("assigned", .boolean).notNull()
                t.column("changedAt", .integer).notNull()
                t.primaryKey(["hostName", "folded"])
            }
            // The newest snapshot's labels (JSON object), kept apart from tags.
            try db.alter(table: "host") { t in t.add(column: "labels", .text) }
            // What evaluating a stored listener again needs that v1 did not keep.
            try db.alter(table: "listenerInterval") { t in
                t.add(column: "uid", .integer)
                t.add(column: "foundBy", .text)
            }
            // A finding opens when a rule first objects to a listener and is resolved by
            // the first complete evaluation that no longer produces it. Waived and live
            // are different identities, so a lapsed waiver shows as two intervals.
            try db.create(table: "findingInterval") { t in
                t.autoIncrementedPrimaryKey("id")
                t.belongsTo("host", onDelete: .cascade).notNull()
                t.column("identity", .text).notNull()
                t.column("rule", .text).notNull()
                t.column("severity", .text).notNull()
                t.column("netns", .integer).notNull()
                t.column("protocol", .text).notNull()
                t.column("family", .text).notNull()
                t.column("address", .text).notNull()
                t.column("port", .integer).notNull()
                t.column("owners", .text).notNull()  // JSON, as listenerInterval.owners, when it opened
                t.column("waived", .boolean).notNull()
                t.column("waiver", .text)  // the waiver's reference while waived
                t.column("policyVersion", .text).notNull()  // the digest that opened it
                t.column("opened", .integer).notNull()
                t.column("closed", .integer)
            }
            try db.create(index: "findingInterval_open", on: "findingInterval", columns: ["hostId", "identity"],
                          unique: true, condition: Column("closed") == nil)
            try db.create(index: "findingInterval_rule", on: "findingInterval", columns: ["rule", "opened"])
        }
        migrator.registerMigration("v5") { db in
            // The newest refused report of each host (for a reason about the report), by
            // host name, deleted by the host's next stored report: a host with a wrong
            // clock or a bad agent shows as refusing instead of vanishing.
            try db.create(table: "hostRefusal") { t in
                t.primaryKey("hostName", .text)
                t.column("reason", .text).notNull()
                t.column("message", .text).notNull()
                t.column("firstRefused", .integer).notNull()
                t.column("lastRefused", .integer).notNull()
                t.column("refusals", .integer).notNull()
            }
        }
        // Identity: the audit, hashed enrollment credentials, host names in normal form.
        migrator.registerMigration("v6", migrate: migrateV6)
        // Enrollment: a certificate's key, superseded requests, disabled versus replaced secrets.
        migrator.registerMigration("v7-enrollment", migrate: migrateV7Enrollment)
        // Fidelity: owners' command lines on listeners, labels over time.
        migrator.registerMigration("v8-fidelity", migrate: migrateV8Fidelity)
        migrator.registerMigration("v9-namespaces", migrate: migrateV9Namespaces)
        migrator.registerMigration("v9-retired", migrate: migrateV9Retired)
        migrator.registerMigration("v9-policy", migrate: migrateV9Policy)  // Policy: the versions evaluated with, and when
        migrator.registerMigration("v9-renewal", migrate: migrateV9Renewal)
        // Unchanged reports: the state digest of each host's newest snapshot.
        migrator.registerMigration("v10-state") { db in
            try db.alter(table: "host") { t in
                t.add(column: "stateDigest", .text)
                t.add(column: "stateSequence", .integer)
                t.add(column: "statePolicy", .text)
                t.add(column: "stateUntil", .integer)
            }
        }
        return migrator
    }
}
