import CollectorClient
import Glibc
import StateFiles

/// "Deliver nothing before this time", set when the collector answers 429 or 503 with
/// Retry-After. On disk (`spool/paused-until`: seconds since the epoch, then the answer)
/// so that a restarted agent and the next `run --once` from cron wait as well.
struct DeliveryPause {
    let path: String

    /// The pause in force at `now`, if any. One further ahead than any Retry-After is
    /// taken (`HTTPResponse.maxRetryAfter`) is a clock that jumped back: ignored.
    func current(now: Int) -> (until: Int, reason: String)? {
        guard let text = try? StateFile.read(path, followingLinks: false) else { return nil }
        let lines = text.split(separator: "\n")
        guard let until = lines.first.flatMap({ Int($0) }), until > now, until - now <= HTTPResponse.maxRetryAfter else {
            unlink(path)
            return nil
        }
        return (until, lines.count > 1 ? String(lines[1]) : "")
    }

    /// Best effort: a pause that cannot be written costs one early retry, nothing more.
    func set(until: Int, reason: String) {
        try? StateFile.write("\(until)\n\(reason)\n", to: path, mode: 0o600)
    }
}
