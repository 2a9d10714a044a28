import PortwardenModel

/// The period a report, export or replay covers: `--since 30d` (2w, 12h, 30m, 45s, or a date) up to
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
        if let unit = since.last, let amount = Int64(since.dropLast()), amount > 0, let seconds = ["w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1][String(unit)] {
            start = end - amount * Int64(seconds)
        } else if let parsed = Timestamp.seconds(dateOrRFC3339: since) {
            start = parsed
        } else {
            throw TimeWindowError("--since \"\(since)\": expected a duration (90d, 12h, 30m, 2w) or a date (2026-11-01)")
        }
        guard start < end else { throw TimeWindowError("--since must be before --until") }
        return TimeWindow(since: start, until: end)
    }
}

public struct TimeWindowError: Error, CustomStringConvertible, Equatable, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
