import PortwardenModel

/// The period a report, export or replay covers: `--since 30d` (2w, 12h, 30m, 45s, 3600, or a date) up to
/// `--until DATE` (default now), in seconds since the epoch.
public struct TimeWindow: Equatable, Sendable {
    public var since: Int64
    public var until: Int64

    public init(since: Int64, until: Int64) {
        self.since = since
        self.until = until
    }

    /// Parses the two flags; the error says what was expected.
    public static func parse(since: String, until: String?, now: Int64) throws(TimeWindowError) -> TimeWindow {
        let end: Int64
        if let until {
            guard let parsed = Timestamp.seconds(dateOrRFC3339: until) else {
                throw TimeWindowError("--until \"\(until)\": expected a date (2026-11-25) or a UTC time (2026-11-25T10:00:00Z)")
            }
            // A bare date means through the end of that day.
            end = until.count == 10 ? parsed + 86_400 : parsed
        } else {
            // Through the current second: what happened just now is in.
            end = now + 1
        }
        let start: Int64
        // A duration in the syntax of every other flag (a bare number is seconds), checked
        // for overflow there: `--since 99999999999999w` is refused, not a trap.
        if let duration = Seconds(since), duration.value > 0 {
            start = end - Int64(duration.value)
        } else if let parsed = Timestamp.seconds(dateOrRFC3339: since) {
            start = parsed
        } else {
            throw TimeWindowError("--since \"\(since)\": expected \(Seconds.syntax), or a date (2026-11-01)")
        }
        guard start < end else { throw TimeWindowError("--since must be before --until") }
        return TimeWindow(since: start, until: end)
    }
}

public struct TimeWindowError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
