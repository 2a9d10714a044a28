import Foundation
import PostgresClient

extension PostgresHistory {
    /// Whether this collector holds `PGLocks.upkeep`: a session-level advisory lock on a
    /// connection kept for it alone (not the pool's, whose connections come and go), so
    /// the lock lasts as long as this collector's session and no longer. When the collector
    /// stops or its process dies, its socket closes, PostgreSQL ends the session and the
    /// next collector to ask takes the lock; a machine lost whole is noticed by the server's
    /// `tcp_keepalives_*` settings (docs/OPERATIONS.md, "PostgreSQL").
    public func holdsUpkeep() -> Bool {
        upkeep.holds(PGLocks.upkeep, conninfo: pool.conninfo)
    }
}

/// The connection holding (or trying for) the upkeep lock. One per `PostgresHistory`
/// value: two values on one database are two collectors, and only one of them holds it.
final class UpkeepSession: @unchecked Sendable {
    private let lock = NSLock()
    private var connection: PGConnection?
    private var held = false

    /// Holds `key` now: checks the session still lives (a restarted server ended it and
    /// freed the lock), and otherwise tries to take the lock without waiting.
    func holds(_ key: Int64, conninfo: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if held, let connection, connection.isUsable, (try? connection.execute("SELECT 1")) != nil { return true }
        held = false
        // Twice: a connection from before a server restart shows as broken only once used.
        for _ in 0..<2 {
            if connection?.isUsable != true { connection = try? PGConnection(conninfo, applicationName: "portwarden upkeep") }
            guard let connection else { return false }
            do {
                let row = try connection.query("SELECT pg_try_advisory_lock($1) AS taken", [key]).first
                held = try row?.value("taken") == true
                return held
            } catch {
                self.connection = nil
            }
        }
        return false
    }

    /// Lets the lock go (the collector is stopping): another collector takes it at once.
    func release() {
        lock.lock()
        defer { lock.unlock() }
        connection = nil
        held = false
    }
}
