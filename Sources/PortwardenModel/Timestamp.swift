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
}
