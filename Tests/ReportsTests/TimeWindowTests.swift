import Reports
import Testing

/// `--since` and `--until` of reports, exports and replays: durations as every other flag
/// writes them, dates, and values nobody meant.
struct TimeWindowTests {
    static let now: Int64 = 1_795_600_800  // 2026-11-25T10:00:00Z

    @Test func aDurationEndsNowAndABareNumberIsSeconds() throws {
        for (since, seconds) in [("30d", 30 * 86_400), ("12h", 43_200), ("3600", 3_600), ("1_800s", 1_800), ("2w", 1_209_600)] {
            let window = try TimeWindow.parse(since: since, until: nil, now: Self.now)
            #expect(window == TimeWindow(since: Self.now + 1 - Int64(seconds), until: Self.now + 1), "\(since)")
        }
        #expect(try TimeWindow.parse(since: "2026-11-01", until: "2026-11-03", now: Self.now).since == 1_793_491_200)
    }

    @Test func nonsenseAndOverflowAreRefusedSayingWhatIsExpected() {
        for since in ["soon", "", "0", "-5m", "99999999999999w", "1e3"] {
            #expect(throws: TimeWindowError.self, "\(since)") { try TimeWindow.parse(since: since, until: nil, now: Self.now) }
        }
        do {
            _ = try TimeWindow.parse(since: "soon", until: nil, now: Self.now)
        } catch {
            #expect(error.description.contains("a duration such as 90s, 15m") && error.description.contains("or a date"))
        }
    }
}
