import Foundation

/// The report's days: UTC by default, or a time zone's local days (`--tz`), whose
/// length changes at daylight-saving boundaries (23 or 25 hours).
public struct DayGrid: Sendable {
    public struct Day: Equatable, Sendable {
        /// `2026-11-25`, in the grid's time zone.
        public var label: String
        public var start: Int64
        public var end: Int64
    }

    public let days: [Day]
    public let timeZone: String

    /// The days that `window` touches, first to last, in `zone` (named `name` in reports).
    public init(window: TimeWindow, timeZone zone: TimeZone = TimeZone(identifier: "UTC")!, name: String = "UTC") {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var days: [Day] = []
        var start = Int64(calendar.startOfDay(for: Date(timeIntervalSince1970: TimeInterval(window.since))).timeIntervalSince1970)
        while start < window.until {
            let startDate = Date(timeIntervalSince1970: TimeInterval(start))
            let next = calendar.date(byAdding: .day, value: 1, to: startDate).map { calendar.startOfDay(for: $0) }!
            let parts = calendar.dateComponents([.year, .month, .day], from: startDate)
            let label = String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
            days.append(Day(label: label, start: start, end: Int64(next.timeIntervalSince1970)))
            start = Int64(next.timeIntervalSince1970)
        }
        self.days = days
        timeZone = name
    }

    /// The index of the day holding `t` (clamped to the grid).
    public func index(containing t: Int64) -> Int {
        var low = 0, high = days.count - 1
        while low < high {
            let mid = (low + high) / 2
            if days[mid].end <= t { low = mid + 1 } else { high = mid }
        }
        return max(0, low)
    }
}
