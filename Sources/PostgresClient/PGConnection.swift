import CLibPQ
import Foundation
import Glibc

/// One connection to PostgreSQL through libpq, used by one thread at a time. Statements
/// are sent with bound parameters (`$1`, `$2`, … in text form with their types), never
/// with values pasted into SQL.
public final class PGConnection {
    let pointer: OpaquePointer
    /// Statements prepared on this connection, by their SQL: the hot path's are prepared
    /// once and then only executed.
    private var prepared: [String: String] = [:]
    private var cursors = 0

    /// Connects with `conninfo` (a `postgres://` URI or `key=value` pairs: anything libpq
    /// reads, with .pgpass, service files and PG* variables). Defaults the string may
    /// override: a 10 s connect timeout and TCP keepalives, so a vanished server is noticed
    /// in seconds rather than the kernel's minutes.
    public init(_ conninfo: String, applicationName: String = "portwarden") throws(PGError) {
        // Earlier keywords are defaults: the expanded connection string (dbname, last) overrides them.
        let keywords = ["connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
                        "application_name", "dbname"]
        let values = ["10", "1", "30", "10", "3", applicationName, conninfo]
        let connection = Self.withCStrings(keywords) { k in Self.withCStrings(values) { v in PQconnectdbParams(k, v, 1) } }
        guard let connection else { throw PGError(sqlState: nil, message: "out of memory", connectionLost: true) }
        guard PQstatus(connection) == CONNECTION_OK else {
            var message = PGError.text(PQerrorMessage(connection))
            PQfinish(connection)
            // libpq quotes what it could not read of the string, which may be the password.
            if let password = PGConnectionString.password(in: conninfo) {
                message = message.replacingOccurrences(of: password, with: "***")
            } else if !PGConnectionString.isReadable(conninfo) {
                // What it quotes of a string it cannot read may be a password: the quotes go.
                message = "the connection string cannot be read: "
                    + message.replacingOccurrences(of: #""[^"]*""#, with: "\"…\"", options: .regularExpression)
            }
            throw PGError(sqlState: "08001", message: message, connectionLost: true)
        }
        pointer = connection
        // Quiet: NOTICEs (e.g. "relation already exists, skipping") go nowhere rather than to stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit { PQfinish(pointer) }

    /// Whether the connection still works (a restarted server or a cut network ends it).
    public var isUsable: Bool { PQstatus(pointer) == CONNECTION_OK }

    /// Whether a transaction is open (or failed and awaiting ROLLBACK).
    public var inTransaction: Bool {
        let status = PQtransactionStatus(pointer)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// Runs `sql` with `parameters` bound to `$1`…; its rows, if any.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [any PGParameter] = []) throws(PGError) -> PGResult {
        try bound(parameters) { types, values in PQexecParams(pointer, sql, Int32(parameters.count), types, values, nil, nil, 0) }
    }

    /// Runs `sql` as a statement prepared once on this connection: for statements run per report.
    @discardableResult
    public func executePrepared(_ sql: String, _ parameters: [any PGParameter] = []) throws(PGError) -> PGResult {
        let name: String
        if let known = prepared[sql] {
            name = known
        } else {
            name = "pw\(prepared.count)"
            let types = parameters.map { type(of: $0).pgType }
            let result = PQprepare(pointer, name, sql, Int32(types.count), types)
            try check(result, expecting: PGRES_COMMAND_OK)
            PQclear(result)
            prepared[sql] = name
        }
        return try bound(parameters) { _, values in PQexecPrepared(pointer, name, Int32(parameters.count), values, nil, nil, 0) }
    }

    /// The rows of `sql`.
    public func query(_ sql: String, _ parameters: [any PGParameter] = []) throws(PGError) -> [PGRow] {
        try execute(sql, parameters).rows
    }

    /// Each row of `sql`, read through a cursor `batch` rows at a time, so memory stays
    /// bounded by a batch however many rows there are. Must run inside a transaction.
    public func forEachRow(_ sql: String, _ parameters: [any PGParameter] = [], batch: Int = 1000,
                           _ body: (PGRow) throws -> Void) throws {
        cursors += 1
        let cursor = "pw_rows\(cursors)"
        try execute("DECLARE \(cursor) NO SCROLL CURSOR FOR " + sql, parameters)
        defer { _ = try? execute("CLOSE \(cursor)") }
        while true {
            let result = try execute("FETCH \(batch) FROM \(cursor)")
            for row in result.rows { try body(row) }
            if result.count < batch { return }
        }
    }

    /// `body` in a transaction (`BEGIN` with `mode`, e.g. "ISOLATION LEVEL REPEATABLE READ
    /// READ ONLY"): committed when it returns, rolled back when it throws.
    public func transaction<T>(_ mode: String = "", _ body: () throws -> T) throws -> T {
        try execute(mode.isEmpty ? "BEGIN" : "BEGIN " + mode)
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if isUsable { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// `body` in a savepoint of the open transaction: its writes undone alone when it
    /// throws, the transaction going on.
    public func savepoint<T>(_ body: () throws -> T) throws -> T {
        try execute("SAVEPOINT pw_savepoint")
        do {
            let value = try body()
            try execute("RELEASE SAVEPOINT pw_savepoint")
            return value
        } catch {
            if isUsable { _ = try? execute("ROLLBACK TO SAVEPOINT pw_savepoint") }
            throw error
        }
    }

    private func bound(_ parameters: [any PGParameter],
                       _ send: (UnsafePointer<UInt32>?, UnsafePointer<UnsafePointer<CChar>?>?) -> OpaquePointer?) throws(PGError) -> PGResult {
        let types = parameters.map { type(of: $0).pgType }
        let texts = parameters.map { $0.pgText }
        // A C string ends at NUL: the value would be cut short, silently. PostgreSQL's text cannot hold one anyway.
        if let index = texts.firstIndex(where: { $0?.utf8.contains(0) == true }) {
            throw PGError(sqlState: "22021", message: "parameter $\(index + 1) holds a NUL character, which PostgreSQL cannot store",
                          connectionLost: false)
        }
        let result = Self.withOptionalCStrings(texts) { values in types.withUnsafeBufferPointer { send($0.baseAddress, values) } }
        try check(result, expecting: nil)
        return PGResult(result!)
    }

    private func check(_ result: OpaquePointer?, expecting wanted: ExecStatusType?) throws(PGError) {
        guard let result else { throw PGError.of(nil, on: pointer) }
        let status = PQresultStatus(result)
        let ok = wanted.map { status == $0 } ?? (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        if !ok {
            let error = PGError.of(result, on: pointer)
            PQclear(result)
            throw error
        }
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        withOptionalCStrings(strings) { body($0!) }
    }

    /// `strings` as a NULL-terminated array of C strings (a nil element stays NULL), alive during `body`.
    static func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) } + [nil]
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
