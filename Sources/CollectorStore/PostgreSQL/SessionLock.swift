import Foundation
import PostgresClient

/// The connection holding (or trying for) a session-level advisory lock: the upkeep's, the
/// signing's. One per `PostgresHistory` value and lock: two values on one database are two
/// collectors, and only one of them holds it.
final class SessionLock: @unchecked Sendable {
    let key: Int64
    let name: String
    private let lock = NSLock()
    private var connection: PGConnection?
    private var held = false

    init(_ key: Int64, name: String) {
        self.key = key
        self.name = name
    }

    /// Holds `key` now: checks the session still lives (a restarted server ended it and
    /// freed the lock), and otherwise tries to take the lock without waiting.
    func holds(conninfo: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if held, let connection, connection.isUsable, (try? connection.execute("SELECT 1")) != nil { return true }
        held = false
        // Twice: a connection from before a server restart shows as broken only once used.
        for _ in 0..<2 {
            if connection?.isUsable != true { connection = try? PGConnection(conninfo, applicationName: name) }
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
