import COpenSSL
import OpenSSLCrypto

/// An OpenSSL failure as a readable Swift error: what we were doing, and OpenSSL's own
/// reason strings from its error queue (`certificate verify failed`, `unknown ca`…).
public struct TLSError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let reasons: [String]
    /// The handshake failed because the peer's certificate did not verify (another CA, a
    /// name it does not carry, expired): trying again cannot help.
    public let peerUnverified: Bool

    /// Drains OpenSSL's per-thread error queue, so the next failure starts clean.
    public init(_ operation: String, detail: String? = nil, peerUnverified: Bool = false) {
        var reasons = ErrorQueue.drain()
        if let detail { reasons.append(detail) }
        self.operation = operation
        self.reasons = reasons
        self.peerUnverified = peerUnverified
    }

    public var description: String {
        reasons.isEmpty ? "\(operation) failed" : "\(operation): \(reasons.joined(separator: "; "))"
    }
}

/// Calls an OpenSSL function that returns 1 on success.
@discardableResult
func check(_ operation: @autoclosure () -> String, _ result: Int32) throws(TLSError) -> Int32 {
    guard result == 1 else { throw TLSError(operation()) }
    return result
}

/// An OpenSSL pointer, or a `TLSError` for `operation` when it is null.
func required<T>(_ operation: @autoclosure () -> String, _ pointer: T?) throws(TLSError) -> T {
    guard let pointer else { throw TLSError(operation()) }
    return pointer
}
