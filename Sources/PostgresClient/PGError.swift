import CLibPQ
import Foundation

/// A statement or connection that failed, with PostgreSQL's SQLSTATE when the server gave
/// one. Messages are the server's (or libpq's) own words: never the connection string,
/// which may carry a password.
public struct PGError: Error, CustomStringConvertible, Sendable {
    /// The five-character SQLSTATE; nil when libpq failed before the server answered.
    public let sqlState: String?
    public let message: String
    /// The connection is no longer usable: it must be dropped and another opened.
    public let connectionLost: Bool

    public init(sqlState: String?, message: String, connectionLost: Bool) {
        self.sqlState = sqlState
        self.message = message
        self.connectionLost = connectionLost
    }

    public var description: String { sqlState.map { "\(message) (SQLSTATE \($0))" } ?? message }

    /// A unique constraint refused the write (two collectors inserted the same row at once).
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// The storage, not the statement: the server is gone, restarting, out of disk,
    /// memory or connections, read-only (a standby after a failover), or the transaction
    /// lost a race it may win when tried again. What may pass: the collector answers 503.
    public var isTransient: Bool {
        if connectionLost { return true }
        guard let state = sqlState else { return true }
        let transientClasses = ["08", "53", "57", "58"]  // connection, resources, operator intervention, system
        return transientClasses.contains(String(state.prefix(2)))
            || ["40001", "40P01", "55P03", "25006"].contains(state)  // serialization, deadlock, lock wait, read-only
    }

    /// The error of `result` on `connection`.
    static func of(_ result: OpaquePointer?, on connection: OpaquePointer) -> PGError {
        let lost = PQstatus(connection) != CONNECTION_OK
        guard let result else {
            return PGError(sqlState: nil, message: Self.text(PQerrorMessage(connection)), connectionLost: true)
        }
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        var message = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? Self.text(PQresultErrorMessage(result))
        if message.isEmpty { message = Self.text(PQerrorMessage(connection)) }
        return PGError(sqlState: state, message: message, connectionLost: lost)
    }

    static func text(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "unknown error" }
        let text = String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "unknown error" : text
    }
}
