/// The fields of `/proc/PID/status` the host scan needs.
public struct ProcessStatus: Equatable, Sendable {
    /// The command name (comm), with the kernel's escapes (`\n` → `\\n`) undone.
    public var name: String
    /// The real user id.
    public var uid: UInt32

    public init(name: String, uid: UInt32) {
        self.name = name
        self.uid = uid
    }

    /// Parses `Name:` and `Uid:` (real, effective, saved, filesystem).
    public static func parse(_ bytes: [UInt8], file: String) -> Result<ProcessStatus, ParseError> {
        var name: String?
        var uid: UInt32?
        var lineNumber = 0
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.starts(with: "Name:".utf8) {
                name = unescape(String(decoding: line.dropFirst(5), as: UTF8.self).drop { $0 == "\t" || $0 == " " })
            } else if line.starts(with: "Uid:".utf8) {
                let fields = line.dropFirst(4).split(whereSeparator: { $0 == 0x09 || $0 == 0x20 })
                guard fields.count == 4, let real = UInt32(String(decoding: fields[0], as: UTF8.self)) else {
                    return .failure(ParseError(file: file, line: lineNumber,
                                               reason: "expected four decimal ids after \"Uid:\"",
                                               text: String(decoding: line, as: UTF8.self)))
                }
                uid = real
            }
            if let name, let uid { return .success(ProcessStatus(name: name, uid: uid)) }
        }
        return .failure(ParseError(file: file, line: lineNumber, reason: "expected \"Name:\" and \"Uid:\" lines", text: ""))
    }

    /// The kernel prints `\n` in a name as `\\n` and a backslash as `\\\\`.
    static func unescape<S: StringProtocol>(_ s: S) -> String {
        guard s.contains("\\") else { return String(s) }
        var out = "", escaped = false
        for ch in s {
            if escaped { out.append(ch == "n" ? "\n" : ch); escaped = false }
            else if ch == "\\" { escaped = true }
            else { out.append(ch) }
        }
        return out
    }
}
