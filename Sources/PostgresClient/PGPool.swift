import Foundation

/// A few connections to one database, shared by threads: each caller holds one
/// connection for the length of its work. A connection that broke (the server
/// restarted, the network went) is dropped and the next caller opens a new one, so the
/// collector reconnects by itself; while none can be opened the caller gets the error
/// (`PGError.isTransient`), which the store turns into "the storage is unavailable".
public final class PGPool: @unchecked Sendable {
    public let conninfo: String
    public let size: Int
    private let lock = NSCondition()
    private var idle: [PGConnection] = []
    private var open = 0
    /// What every new connection runs first (e.g. `SET search_path`, timeouts).
    private let setup: [String]

    public init(conninfo: String, size: Int = 4, setup: [String] = []) {
        self.conninfo = conninfo
        self.size = max(1, size)
        self.setup = setup
    }

    /// `body` with a connection of its own. One that is no longer usable afterwards is
    /// closed rather than returned.
    public func withConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let connection = try checkOut()
        defer { checkIn(connection) }
        return try body(connection)
    }

    /// `body` in a read-write transaction (READ COMMITTED: writers lock what they decide
    /// on, e.g. `SELECT … FOR UPDATE` on the host row), committed when it returns. A
    /// deadlock or serialization failure is tried again, up to three times in all: the
    /// body must have no effect outside the database that a second run would double.
    public func write<T>(_ body: (PGConnection) throws -> T) throws -> T {
        // Inside `oneTransaction` on this thread: part of that transaction.
        if let joined = Thread.current.threadDictionary[joinKey] as? PGConnection { return try body(joined) }
        return try retrying { try withConnection { connection in try connection.transaction { try body(connection) } } }
    }

    /// `body` in one read-write transaction: every `write` it makes on this thread joins it,
    /// so they commit together or not at all (what a decision records and the answer it
    /// leaves for someone else). Tried again as `write` is.
    public func oneTransaction<T>(_ body: () throws -> T) throws -> T {
        try retrying {
            try withConnection { connection in
                try connection.transaction {
                    Thread.current.threadDictionary[joinKey] = connection
                    defer { Thread.current.threadDictionary.removeObject(forKey: joinKey) }
                    return try body()
                }
            }
        }
    }

    /// The thread-dictionary key under which `oneTransaction` leaves its connection.
    private var joinKey: String { "portwarden.pgpool.\(ObjectIdentifier(self).hashValue)" }

    /// A deadlock or serialization failure, tried again: three runs in all.
    private func retrying<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try body()
            } catch let error as PGError where ["40001", "40P01"].contains(error.sqlState ?? "") && attempt < 3 {
                continue
            }
        }
    }

    /// `body` in a read-only transaction that sees one snapshot of the database throughout.
    public func read<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try withConnection { connection in
            try connection.transaction("ISOLATION LEVEL REPEATABLE READ READ ONLY") { try body(connection) }
        }
    }

    /// Closes every idle connection (the store is going away, or the server restarted).
    public func drain() {
        lock.lock()
        open -= idle.count
        idle.removeAll()
        lock.broadcast()
        lock.unlock()
    }

    private func checkOut() throws -> PGConnection {
        lock.lock()
        while idle.isEmpty && open >= size { lock.wait() }
        if let connection = idle.popLast() {
            lock.unlock()
            if connection.isUsable { return connection }
            lock.lock()
            open -= 1
        }
        open += 1
        lock.unlock()
        do {
            let connection = try PGConnection(conninfo)
            for statement in setup { try connection.execute(statement) }
            return connection
        } catch {
            lock.lock()
            open -= 1
            lock.signal()
            lock.unlock()
            throw error
        }
    }

    private func checkIn(_ connection: PGConnection) {
        let keep = connection.isUsable && !connection.inTransaction
        lock.lock()
        if keep { idle.append(connection) } else { open -= 1 }
        lock.signal()
        lock.unlock()
    }
}
