import Glibc

/// RFC 3339 UTC without Foundation, for the agent (a snapshot's `collected_at`) and for
/// both executables' log lines.
public enum Timestamp {
    /// `2026-11-25T10:00:00Z`; with `milliseconds`, `2026-11-25T10:00:00.042Z`.
    public static func rfc3339(_ seconds: time_t = time(nil), milliseconds: Int? = nil) -> String {
        var t = seconds
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
            + (milliseconds.map { "." + pad($0, 3) } ?? "") + "Z"
    }

    /// Now, to the millisecond.
    public static func nowWithMilliseconds() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return rfc3339(now.tv_sec, milliseconds: now.tv_nsec / 1_000_000)
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
        guard let year = digits(0, 4), byte(4, "-"), let month = digits(5, 2), byte(7, "-"), let day = digits(8, 2),
              byte(10, "Tt"), let hour = digits(11, 2), byte(13, ":"), let minute = digits(14, 2), byte(16, ":"),
              let second = digits(17, 2)
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
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard at == b.count, (1970...9999).contains(year), (1...12).contains(month), (1...days[month - 1]).contains(day),
              hour <= 23, minute <= 59, second <= 59
        else { return nil }
        // Days from the epoch to the date (the proleptic Gregorian calendar, civil from days).
        let y = month <= 2 ? year - 1 : year
        let era = y / 400, yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let epochDays = era * 146_097 + dayOfEra - 719_468
        return Int64(epochDays * 86_400 + hour * 3_600 + minute * 60 + second - offset)
    }
}
