import Glibc
import StateFiles

/// A number kept in a one-line file, replaced atomically: the agent's sequence, the
/// spool's drop count, an entry's failures. A missing file reads as 0; one that is there
/// but is a link, or does not hold a number, is an error — read as 0, the sequence would
/// hand out numbers the collector has already acknowledged.
struct CounterFile {
    let path: String

    func value() throws(StateFile.Failed) -> UInt64 {
        var st = stat()
        if lstat(path, &st) != 0 && errno == ENOENT { return 0 }
        let text = try StateFile.read(path, followingLinks: false)
        guard let number = UInt64(text.split(separator: "\n").first ?? "") else {
            throw StateFile.Failed(path: path, reason: "expected a number on its first line; the agent writes only that (a damaged file: write the right number back)")
        }
        return number
    }

    /// Adds `amount` and returns the new value, on disk before it is returned. At most
    /// Int64.max: what the collector stores.
    func add(_ amount: UInt64) throws(StateFile.Failed) -> UInt64 {
        let (next, overflow) = try value().addingReportingOverflow(amount)
        guard !overflow, next <= UInt64(Int64.max) else {
            throw StateFile.Failed(path: path, reason: "the count would pass \(Int64.max)")
        }
        try set(next)
        return next
    }

    /// One more than now, or `floor` if that is more; on disk before it is returned.
    func advance(atLeast floor: UInt64) throws(StateFile.Failed) -> UInt64 {
        let (after, overflow) = try value().addingReportingOverflow(1)
        let next = max(after, floor)
        guard !overflow, next <= UInt64(Int64.max) else {
            throw StateFile.Failed(path: path, reason: "the count would pass \(Int64.max)")
        }
        try set(next)
        return next
    }

    func set(_ value: UInt64) throws(StateFile.Failed) {
        try StateFile.write("\(value)\n", to: path, mode: 0o600)
    }

    func remove() { unlink(path) }
}
