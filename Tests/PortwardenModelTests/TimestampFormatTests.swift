import PortwardenModel
import Testing

/// The one formatter: what every report, log line and snapshot writes.
struct TimestampFormatTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"), (1_795_615_252, "2026-11-25T14:00:52Z"), (1_709_164_800, "2024-02-29T00:00:00Z"),
        (-1, "1969-12-31T23:59:59Z"), (253_402_300_799, "9999-12-31T23:59:59Z"),
    ])
    func secondsWriteAsRFC3339(seconds: Int64, text: String) {
        #expect(Timestamp.rfc3339(seconds) == text)
    }

    @Test func millisecondsAndMinutes() {
        #expect(Timestamp.rfc3339(1_795_615_252, milliseconds: 42) == "2026-11-25T14:00:52.042Z")
        #expect(Timestamp.minute(1_795_615_252) == "2026-11-25 14:00")
    }

    /// `--since` and `--until` take a bare date as its midnight, or any time the strict parser reads.
    @Test func aBareDateIsItsMidnight() {
        #expect(Timestamp.seconds(dateOrRFC3339: "2026-11-25") == 1_795_564_800)
        #expect(Timestamp.seconds(dateOrRFC3339: "2026-11-25T14:00:52Z") == 1_795_615_252)
        #expect(Timestamp.seconds(dateOrRFC3339: "2026-02-30") == nil)
        #expect(Timestamp.seconds(dateOrRFC3339: "2026-11-25T14:00") == nil)
    }

    @Test func calendarDatesRoundTrip() {
        for days in stride(from: -800_000, to: 2_932_897, by: 997) {
            let date = CalendarDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            if date.year >= 0 { #expect(CalendarDate(iso: date.description) == date) }
        }
    }
}
