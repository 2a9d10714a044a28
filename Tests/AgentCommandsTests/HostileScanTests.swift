import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing
@testable import AgentCommands

/// A host's own processes choose their names: `scan` shows them with terminal escapes and
/// bidi controls made visible, and logs each warning on one line (issue 11).
extension ScanCommandTests {
    @Test func theTableWritesNoEscapeButItsOwnColours() {
        let snapshot = Snapshot(
            host: Host(hostname: "h", machineID: nil, bootID: nil, kernel: nil, os: nil), collectedAt: "2026-11-25T00:00:00Z",
            complete: true, ownershipComplete: true, warnings: [], namespaces: [],
            listeners: [Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: 557, scope: .any, netns: 1,
                                 hostNetns: true, inode: 1, uid: 0,
                                 processes: HostileText.owners + [Owner(pid: 9, name: HostileText.terminal + HostileText.rightToLeftOverride,
                                                                        exe: nil, cmdline: [], uid: 0, user: nil, unit: nil, container: nil)])],
            unresolved: [UnresolvedSocket(inode: 9, kind: HostileText.terminal, processes: HostileText.owners,
                                          reason: HostileText.hostName)])
        let plain = ListenerTable(colour: false).render(snapshot)
        #expect(HostileText.rawControls(in: plain).isEmpty, "\(HostileText.rawControls(in: plain)): \(plain)")
        #expect(plain.contains(#"\x1b]0;owned\x07\x1b[2J\r\u202e[9]"#), "shown, not dropped: \(plain)")
        #expect(plain.split(separator: "\n").count == 3, "a header, a listener, an unresolved socket on one line each")
        let coloured = ListenerTable(colour: true).render(snapshot)
        let ours = ["\u{1B}[1m", "\u{1B}[33m", "\u{1B}[0m"].reduce(coloured) { $0.replacing($1, with: "") }
        #expect(HostileText.rawControls(in: ours).isEmpty, "only the table's own colours: \(ours)")
    }

    /// The built agent on a /proc whose process names hold escapes, and whose status
    /// file has a malformed line that the warning quotes.
    @Test func aScanOfHostileProcessNamesPrintsThemEscaped() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pw-hostile-proc-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: root)
        let name = HostileText.terminal + "vms" + HostileText.rightToLeftOverride + "d"
        for (pid, status) in [("300", "Name:\t\(name)\nUid:\t0\t0\t0\t0\n"), ("260", "Name:\tnginx\nUid:\t\u{1B}[2J33\t\u{202E}\n")] {
            try FileManager.default.removeItem(atPath: "\(root)/\(pid)/status")
            try status.write(toFile: "\(root)/\(pid)/status", atomically: true, encoding: .utf8)
        }
        let result = try agent(["scan", "--proc-root", root])
        #expect(result.status == 0, "\(result.err)")
        #expect(HostileText.rawControls(in: result.out).isEmpty, "\(HostileText.rawControls(in: result.out)): \(result.out)")
        #expect(result.out.contains(#"\x1b]0;owned\x07\x1b[2J\rvms\u202ed[300]"#), "\(result.out)")
        #expect(HostileText.rawControls(in: result.err).isEmpty, "\(HostileText.rawControls(in: result.err)): \(result.err)")
        let lines = result.err.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("time=") && $0.contains(" level=warning ") }, "\(result.err)")
        #expect(result.err.contains(#"Uid:\t\x1b[2J33\t\u202e"#), "the malformed line quoted, escaped: \(result.err)")
    }
}
