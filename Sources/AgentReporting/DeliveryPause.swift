import CollectorClient
import Glibc
import StateFiles

/// "Deliver nothing to this collector before this time", set when a collector answers
/// 429 or 503 with Retry-After. On disk (`spool/paused-until`: a line per collector,
/// `UNTIL ADDRESS REASON`, UNTIL in seconds since the epoch) so that a restarted agent
/// and the next `run --once` from cron leave it alone as well, and try the others.
struct DeliveryPause {
    let path: String
    /// What an earlier release wrote (`UNTIL` then the reason on the next line) pauses
    /// every collector: it had one.
    static let everyCollector = "*"

    struct Pause: Equatable {
        var until: Int
        var reason: String
    }

    /// The pauses in force at `now`, by collector address (or `everyCollector`). One
    /// further ahead than any Retry-After is taken (`HTTPResponse.maxRetryAfter`) is a
    /// clock that jumped back: ignored, as is a line that cannot be read.
    func current(now: Int) -> [String: Pause] {
        guard let text = try? StateFile.read(path, followingLinks: false) else { return [:] }
        var pauses: [String: Pause] = [:]
        let lines = text.split(separator: "\n")
        for (index, line) in lines.enumerated() {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard let until = Int(fields[0]), until > now, until - now <= HTTPResponse.maxRetryAfter else { continue }
            if fields.count == 1 {
                pauses[Self.everyCollector] = Pause(until: until, reason: index + 1 < lines.count ? String(lines[index + 1]) : "")
                break
            }
            pauses[String(fields[1])] = Pause(until: until, reason: fields.count > 2 ? String(fields[2]) : "")
        }
        if pauses.isEmpty { unlink(path) }
        return pauses
    }

    /// The pause in force for `collector` at `now`, if any.
    func current(for collector: String, now: Int) -> Pause? {
        let pauses = current(now: now)
        return pauses[collector] ?? pauses[Self.everyCollector]
    }

    /// Best effort: a pause that cannot be written costs one early retry, nothing more.
    func set(_ collector: String, until: Int, reason: String, now: Int) {
        var pauses = current(now: now)
        pauses[collector] = Pause(until: until, reason: String(reason.map { $0.isNewline ? " " : $0 }))
        let text = pauses.sorted { $0.key < $1.key }.map { "\($0.value.until) \($0.key) \($0.value.reason)\n" }.joined()
        try? StateFile.write(text, to: path, mode: 0o600)
    }
}
