import Glibc

/// RFC 3339 UTC without Foundation: the one formatter and the one parser of times, for the
/// agent (a snapshot's `collected_at`), both executables' log lines, the collector's
/// messages and every report and export (a timestamp per cell, so no Foundation formatter).
public enum Timestamp {
    /// `2026-11-25T10:00:00Z`; with `milliseconds`, `2026-11-25T10:00:00.042Z`.
    public static func rfc3339(_ seconds: Int64 = Int64(time(nil)), milliseconds: Int? = nil) -> String {
        // Floor division: a time before the epoch still has a second of day from 0 to 86,399.
        let (q, r) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (days, second) = r < 0 ? (q - 1, Int(r) + 86_400) : (q, Int(r))
        let pad = CalendarDate.pad
        return CalendarDate(daysSinceEpoch: Int(days)).description
            + "T\(pad(second / 3_600, 2)):\(pad(second / 60 % 60, 2)):\(pad(second % 60, 2))"
            + (milliseconds.map { "." + pad($0, 3) } ?? "") + "Z"
    }

    /// `2026-11-25 10:00`, for tables people read.
    public static func minute(_ seconds: Int64) -> String {
        String(rfc3339(seconds).prefix(16)).replacing("T", with: " ")
    }

    /// Now, to the millisecond.
    public static func nowWithMilliseconds() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return rfc3339(Int64(now.tv_sec), milliseconds: now.tv_nsec / 1_000_000)
    }

    /// Seconds since the epoch of an RFC 3339 time — `2026-11-25T14:00:52Z`, a fraction and
    /// an offset (`+01:00`) allowed — or nil unless it names a real instant: no February
    /// 30th, no 24:00, no leap second (the epoch counts none), years 1970 to 9999. Strict,
    /// because a report's time decides which history it writes.
    public static func seconds(rfc3339 text: String) -> Int64? {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var value = 0
            for byte in b[at..<(at + count)] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        func byte(_ at: Int, _ allowed: String) -> Bool { at < b.count && allowed.utf8.contains(b[at]) }
        guard let date = CalendarDate(iso: b[...]), date.year >= 1970, byte(10, "Tt"), let hour = digits(11, 2), byte(13, ":"),
              let minute = digits(14, 2), byte(16, ":"), let second = digits(17, 2)
        else { return nil }
        var at = 19
        if byte(at, ".") {
            at += 1
            let start = at
            while at < b.count, b[at] >= 0x30, b[at] <= 0x39 { at += 1 }
            guard at > start else { return nil }
        }
        var offset = 0
        if byte(at, "Zz") {
            at += 1
        } else if byte(at, "+-"), let hours = digits(at + 1, 2), byte(at + 3, ":"), let minutes = digits(at + 4, 2),
                  hours <= 23, minutes <= 59 {
            offset = (hours * 60 + minutes) * 60 * (b[at] == UInt8(ascii: "-") ? -1 : 1)
            at += 6
        } else {
            return nil
        }
        guard at == b.count, hour <= 23, minute <= 59, second <= 59 else { return nil }
        return Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3_600 + minute * 60 + second - offset)
    }

    /// A bare date (`2026-11-25`, its midnight) or an RFC 3339 time, as seconds since the
    /// epoch, or nil: what `--since` and `--until` accept.
    public static func seconds(dateOrRFC3339 text: String) -> Int64? {
        if let date = CalendarDate(iso: text) { return Int64(date.daysSinceEpoch) * 86_400 }
        return seconds(rfc3339: text)
    }
}
