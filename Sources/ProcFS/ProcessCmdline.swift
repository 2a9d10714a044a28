/// `/proc/PID/cmdline`: arguments separated by NUL. A process that rewrote its argv
/// (`nginx: master process`) shows as one argument, which is what it chose to show.
public struct ProcessCmdline: Equatable, Sendable {
    public var arguments: [String]
    /// The file went on past what was read: `arguments` are only its first whole ones.
    public var isCut: Bool

    public init(arguments: [String], isCut: Bool) {
        self.arguments = arguments
        self.isCut = isCut
    }

    public static func parse(_ bytes: [UInt8]) -> [String] {
        var body = bytes[...]
        if body.last == 0 { body = body.dropLast() }
        if body.isEmpty { return [] }
        return body.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The start of a command line read up to `limit` bytes and one more: more than
    /// `limit` means the file went on. The argument the read ended inside is left out
    /// whole — a secret is recognised in whole arguments only, so half of one is never kept.
    public static func parse(prefix bytes: [UInt8], limit: Int) -> ProcessCmdline {
        guard bytes.count > limit else { return ProcessCmdline(arguments: parse(bytes), isCut: false) }
        let whole = bytes.lastIndex(of: 0).map { bytes[...$0] } ?? []
        return ProcessCmdline(arguments: parse(Array(whole)), isCut: true)
    }
}
