import Foundation
import PortwardenModel

/// A calendar day in UTC (`YYYY-MM-DD`): waivers expire by the day, never by the hour. The
/// calendar arithmetic is the model's `CalendarDate`.
public struct Day: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public let ordinal: Int

    public init(ordinal: Int) { self.ordinal = ordinal }

    public init(_ date: Date) {
        ordinal = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
    }

    /// Parses exactly `YYYY-MM-DD`; nil for anything else, including 2026-02-30.
    public init?(iso text: String) {
        guard let date = CalendarDate(iso: text) else { return nil }
        ordinal = date.daysSinceEpoch
    }

    /// The first instant that is no longer this day.
    public var end: Date { Date(timeIntervalSince1970: Double(ordinal + 1) * 86_400) }

    public static func < (a: Day, b: Day) -> Bool { a.ordinal < b.ordinal }
    public static func + (day: Day, days: Int) -> Day { Day(ordinal: day.ordinal + days) }
    public static func - (a: Day, b: Day) -> Int { a.ordinal - b.ordinal }

    public var description: String { CalendarDate(daysSinceEpoch: ordinal).description }
}
