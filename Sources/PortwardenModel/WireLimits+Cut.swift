extension WireLimits {
    /// `text` within `bytes` of UTF-8: unchanged when it fits, else its longest prefix that
    /// ends between two Unicode scalars and, with `truncationMarker` after it, fits. The
    /// one way the agent cuts a string, so every cut looks the same and is at most its bound.
    public static func cut(_ text: String, to bytes: Int = stringBytes) -> String {
        guard text.utf8.count > bytes else { return text }
        return prefix(of: text, bytes: bytes - truncationMarker.utf8.count) + truncationMarker
    }

    public static func cut(_ text: String?, to bytes: Int = stringBytes) -> String? { text.map { cut($0, to: bytes) } }

    /// A command line within `bytes` (each argument's UTF-8 and a NUL, as /proc holds it):
    /// unchanged when it fits; else the arguments that fit whole, as much of the next as
    /// fits, and `truncationMarker` as the last argument. `knownLonger`: the arguments are
    /// only the start of a longer command line, so the marker goes on even when they fit.
    public static func cut(arguments: [String], to bytes: Int = cmdlineBytes, knownLonger: Bool = false) -> [String] {
        guard knownLonger || size(ofArguments: arguments) > bytes else { return arguments }
        var room = bytes - (truncationMarker.utf8.count + 1)
        var kept: [String] = []
        for argument in arguments {
            let size = argument.utf8.count + 1
            if size <= room {
                kept.append(argument)
                room -= size
                continue
            }
            // Part of this one, when more than its NUL fits; then nothing after it.
            let part = prefix(of: argument, bytes: room - 1)
            if !part.isEmpty { kept.append(part) }
            break
        }
        return kept + [truncationMarker]
    }

    /// A command line's size as `/proc/PID/cmdline` would hold it: each argument and a NUL.
    public static func size(ofArguments arguments: [String]) -> Int {
        arguments.reduce(0) { $0 + $1.utf8.count + 1 }
    }

    /// The longest prefix of `text` of at most `bytes` UTF-8 bytes that does not split a scalar.
    private static func prefix(of text: String, bytes: Int) -> String {
        let utf8 = text.utf8
        guard bytes > 0 else { return "" }
        guard bytes < utf8.count else { return text }
        var end = utf8.index(utf8.startIndex, offsetBy: bytes)
        // Step back off continuation bytes (10xxxxxx) to the start of the split scalar.
        while end > utf8.startIndex, UTF8.isContinuation(utf8[end]) { end = utf8.index(before: end) }
        return String(decoding: utf8[..<end], as: UTF8.self)
    }
}
