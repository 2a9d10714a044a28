import PortwardenModel

/// The worst text a host can send, in every field that reaches an output: a spreadsheet
/// formula, a script, a link, terminal escapes (retitle, clear, carriage return), a bidi
/// override and a newline that would forge a line. Every renderer's test reads this one.
public enum HostileText {
    public static let formula = "=1+1+cmd|A0"
    public static let script = "<script>alert(1)</script>"
    public static let link = "[x](javascript:alert(1))"
    /// OSC retitle, BEL, clear screen, carriage return.
    public static let terminal = "\u{1B}]0;owned\u{07}\u{1B}[2J\r"
    public static let rightToLeftOverride = "\u{202E}"
    /// What a forged line would start with: a date no test runs on.
    public static let forgedLineStart = "1999-12-31T00:00:00Z"
    public static let hostName = "web-66\n\(forgedLineStart) level=critical forged"

    public static let owners = [
        Owner(pid: 7, name: formula, exe: script, cmdline: ["sh", "-c", terminal + "done"], uid: 0, user: "root",
              unit: "backup\(rightToLeftOverride)lmth.service", container: nil),
        Owner(pid: 8, name: link, exe: "/x", cmdline: [script], uid: 1000, user: script + rightToLeftOverride + "\u{1B}[31m",
              unit: nil, container: "docker://" + terminal),
    ]

    /// A report from `hostName` with one listener on 557/tcp held by `owners` — a finding
    /// for any host not tagged OpenVMS.
    public static func snapshot(sequence: UInt64, collectedAt: String) -> Snapshot {
        Snapshot(host: Host(hostname: hostName, machineID: "m", bootID: "b", kernel: terminal, os: script,
                            labels: ["docs": link, "note": script]),
                 sequence: sequence, collectedAt: collectedAt, complete: true, ownershipComplete: true,
                 warnings: [terminal + hostName], namespaces: [],
                 listeners: [Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: 557, scope: .any, netns: 1,
                                      hostNetns: true, inode: 1, uid: 0, processes: owners)],
                 unresolved: [])
    }

    /// The raw controls found in `output` (none is the only right answer): ESC, BEL, CR,
    /// U+202E, and a line begun by a host's newline.
    public static func rawControls(in output: String) -> [String] {
        var found: [String] = []
        for (scalar, name) in [("\u{1B}", "ESC"), ("\u{07}", "BEL"), ("\r", "CR"), ("\u{202E}", "U+202E")]
        where output.unicodeScalars.contains(Unicode.Scalar(scalar)!) {
            found.append(name)
        }
        if output.split(separator: "\n").contains(where: { $0.hasPrefix(forgedLineStart) }) { found.append("forged line") }
        return found
    }
}
