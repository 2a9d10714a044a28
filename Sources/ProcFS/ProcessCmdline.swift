/// `/proc/PID/cmdline`: arguments separated by NUL. A process that rewrote its argv
/// (`nginx: master process`) shows as one argument, which is what it chose to show.
public enum ProcessCmdline {
    public static func parse(_ bytes: [UInt8]) -> [String] {
        var body = bytes[...]
        if body.last == 0 { body = body.dropLast() }
        if body.isEmpty { return [] }
        return body.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }
}
