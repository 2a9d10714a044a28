import Policy

/// Seconds since the epoch to and from UTC text, without Foundation's formatters:
/// exports write a timestamp per cell. The calendar arithmetic is Policy's `Day`.
public enum UTCTime {
    /// `2026-11-25T10:00:00Z`
    public static func rfc3339(_ seconds: Int64) -> String {
        let (days, secondOfDay) = seconds.floorDivided(by: 86_400)
        return Day(ordinal: Int(days)).description
            + "T\(pad(secondOfDay / 3600)):\(pad(secondOfDay / 60 % 60)):\(pad(secondOfDay % 60))Z"
    }

    /// `2026-11-25 10:00`, for tables people read.
    public static func minute(_ seconds: Int64) -> String {
        String(rfc3339(seconds).prefix(16)).replacing("T", with: " ")
    }

    /// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` as seconds since the epoch, or nil.
    public static func parse(_ text: String) -> Int64? {
        guard let day = Day(iso: String(text.prefix(10))) else { return nil }
        let start = Int64(day.ordinal) * 86_400
        if text.count == 10 { return start }
        let time = text.dropFirst(11).dropLast().split(separator: ":", omittingEmptySubsequences: false)
        guard text.count == 20, text.hasSuffix("Z"), text[text.index(text.startIndex, offsetBy: 10)] == "T", time.count == 3,
              let h = Int64(time[0]), let m = Int64(time[1]), let s = Int64(time[2]), (0..<24).contains(h), (0..<60).contains(m),
              (0..<60).contains(s)
        else { return nil }
        return start + h * 3600 + m * 60 + s
    }

    private static func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : String(value) }
}

extension Int64 {
    /// Division rounding toward minus infinity, with a remainder that is never negative.
    func floorDivided(by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (q, r) = quotientAndRemainder(dividingBy: divisor)
        return r < 0 ? (q - 1, r + divisor) : (q, r)
    }
}
