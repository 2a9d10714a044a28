import OpenSSLTLS

/// A number kept in a one-line file, replaced atomically: the agent's sequence and the
/// spool's drop count. A missing or unreadable file reads as 0.
struct CounterFile {
    let path: String

    var value: UInt64 {
        (try? FileWriting.read(path)).flatMap { UInt64($0.split(separator: "\n").first ?? "") } ?? 0
    }

    /// Adds `amount` and returns the new value, on disk before it is returned.
    func add(_ amount: UInt64) throws -> UInt64 {
        let next = value + amount
        try FileWriting.write("\(next)\n", to: path, mode: 0o600)
        return next
    }
}
