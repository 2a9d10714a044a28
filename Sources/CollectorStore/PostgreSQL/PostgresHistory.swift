import Foundation
import PostgresClient

/// The collector's history in PostgreSQL, for fleets past one machine: several collectors
/// share one database that its DBAs run, back up and replicate. The same `HistoryStore`
/// as `CollectorDatabase` (SQLite), run through the same suite.
///
/// Concurrency, since other collectors write the same tables at once:
/// - Writes run in READ COMMITTED transactions (`PGPool.write`) and lock what they decide
///   on: ingest locks its host's row (`SELECT … FOR UPDATE`, after `INSERT … ON CONFLICT
///   DO NOTHING` for a new host), so two collectors storing one host serialise and its
///   intervals never overlap; identity decisions (enrollment, renewal, revocation,
///   credentials, requests, retirement, tags) take `PGLocks.identity` first, so they are
///   as serial as SQLite's single writer made them.
/// - Reads run in one REPEATABLE READ, read-only transaction each: one consistent view.
/// - A lost connection, a server restarting, a full disk or a standby that cannot write
///   throw `StorageUnavailable` (the collector answers 503; agents spool).
public struct PostgresHistory: HistoryStore {
    let pool: PGPool
    /// The connection string, with any password hidden: what messages may show.
    let shown: String
    /// The session holding the periodic work's lock, when this collector does it (`holdsUpkeep`).
    let upkeep = SessionLock(PGLocks.upkeep, name: "portwarden upkeep")
    /// The session holding the signing lock, when this collector signs for the others (`holdsSigning`).
    let signing = SessionLock(PGLocks.signing, name: "portwarden signing")
    /// Certificates' standing in memory, for the handshakes (see CertificateStandings).
    let standings: CertificateStandings

    init(pool: PGPool) {
        self.pool = pool
        self.shown = PostgresTarget.redacted(pool.conninfo)
        self.standings = CertificateStandings(conninfo: pool.conninfo)
    }

    /// Opens the database `conninfo` names, creating or migrating the schema (under
    /// `PGLocks.migration`, so collectors starting together migrate once): `serve`, `ca
    /// init` and `db migrate`. `migrated` hears which migrations this opening applied.
    public static func open(_ conninfo: String, migrated: ([String]) -> Void = { _ in }) throws -> PostgresHistory {
        let history = PostgresHistory(pool: PGPool(conninfo: conninfo, size: poolSize))
        let applied = try history.connecting { try PostgresSchema.migrate(history.pool) }
        if !applied.isEmpty { migrated(applied) }
        history.standings.warmUp(timeout: 5)
        return history
    }

    /// The database as this release wrote it, for every other command: migrated, or
    /// `DatabaseUnusable` says what to do.
    public static func existing(_ conninfo: String) throws -> PostgresHistory {
        let history = PostgresHistory(pool: PGPool(conninfo: conninfo, size: poolSize))
        let applied = try history.connecting { try history.pool.read { try PostgresSchema.applied($0) } }
        let shown = history.shown
        if applied.isEmpty { throw DatabaseUnusable.missing(shown) }
        if let unknown = applied.first(where: { !PostgresSchema.migrations.map(\.name).contains($0) }) {
            throw DatabaseUnusable.newer("\(shown) (schema \(unknown))")
        }
        let pending = PostgresSchema.migrations.map(\.name).filter { !applied.contains($0) }
        if !pending.isEmpty { throw DatabaseUnusable.older(shown, pending: pending) }
        return history
    }

    /// Connections per collector: ingest's writers, the readers of /metrics and reports,
    /// and the handshake checks; with the upkeep session and the standings listener, 6 in
    /// all (7 on the signing collector), so PostgreSQL's default max_connections (100) holds ~14 collectors.
    static let poolSize = 4

    /// `body`; a server that cannot be reached becomes `DatabaseUnusable.cannotOpen` with
    /// libpq's reason (which names the host and port, never the password).
    private func connecting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PGError where error.sqlState == "08001" || error.connectionLost {
            throw DatabaseUnusable.cannotOpen(shown, reason: error.message
                + ": check the connection string (--database, or `database:` in the config), that PostgreSQL runs, "
                + "and that this host may connect (pg_hba.conf)")
        }
    }

    /// `body` in a write transaction; the storage failing becomes `StorageUnavailable`.
    func write<T>(_ body: (PGConnection) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw StorageUnavailable(error) ?? error }
    }

    /// `body` in a read-only transaction with one consistent view.
    func read<T>(_ body: (PGConnection) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw StorageUnavailable(error) ?? error }
    }

    /// `body` off the caller's thread (libpq blocks): for the async readers and ingest.
    func detached<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    public func appliedMigrations() throws -> [String] {
        try read { try PostgresSchema.applied($0) }
    }

    /// Everything committed is already PostgreSQL's: nothing to put anywhere.
    public func settle() throws {
        upkeep.release()
        signing.release()
        standings.pause()
        pool.drain()
    }
}

/// Advisory lock keys (`pg_advisory_xact_lock`): one number per kind of decision that
/// must be taken by one collector at a time.
enum PGLocks {
    /// Creating or migrating the schema.
    static let migration: Int64 = 0x7077_0001
    /// Enrollment, renewal, revocation, credentials, requests, retirement, tags: the
    /// decisions SQLite's single writer made serial.
    static let identity: Int64 = 0x7077_0002
    /// The periodic work (waiver expiry re-evaluation, receipt pruning): one collector at a time.
    static let upkeep: Int64 = 0x7077_0003
    /// Signing what collectors without the CA key queued: one signing collector at a time.
    static let signing: Int64 = 0x7077_0004

    /// Takes `key` until the transaction on `connection` ends.
    static func hold(_ key: Int64, on connection: PGConnection) throws {
        try connection.execute("SELECT pg_advisory_xact_lock($1)", [key])
    }
}
