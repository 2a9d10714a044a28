/// Seconds since the epoch to and from UTC calendar dates, without Foundation's
/// formatters: exports write a timestamp per cell, and reports bucket by day.
public enum UTCTime {
    /// `2026-11-25T10:00:00Z`
    public static func rfc3339(_ seconds: Int64) -> String {
        let (days, secondOfDay) = seconds.floorDivided(by: 86_400)
        let (year, month, day) = civil(fromDays: days)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
    }

    /// `2026-11-25 10:00`, for tables people read.
    public static func minute(_ seconds: Int64) -> String {
        String(rfc3339(seconds).prefix(16)).replacing("T", with: " ")
    }

    /// `2026-11-25`
    public static func day(_ seconds: Int64) -> String {
        let (year, month, day) = civil(fromDays: seconds.floorDivided(by: 86_400).quotient)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    /// The epoch second at which `YYYY-MM-DD` starts (UTC), or nil.
    public static func startOfDay(_ text: some StringProtocol) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]),
              (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        // Reject 2026-02-30 and the like: it must come back as itself.
        guard civil(fromDays: days) == (year, month, day) else { return nil }
        return days * 86_400
    }

    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`, or nil.
    public static func parse(_ text: String) -> Int64? {
        if text.count == 10 { return startOfDay(text) }
        guard text.count == 20, text.hasSuffix("Z"), let start = startOfDay(text.prefix(10)) else { return nil }
        let time = text.dropFirst(11).dropLast().split(separator: ":")
        guard text[text.index(text.startIndex, offsetBy: 10)] == "T", time.count == 3,
              let h = Int64(time[0]), let m = Int64(time[1]), let s = Int64(time[2]), h < 24, m < 60, s < 60
        else { return nil }
        return start + h * 3600 + m * 60 + s
    }

    // Howard Hinnant's civil-calendar algorithms (proleptic Gregorian).
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysFromCivil(year y0: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

extension Int64 {
    /// Division rounding toward minus infinity, with a remainder that is never negative.
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (q, r) = quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}
