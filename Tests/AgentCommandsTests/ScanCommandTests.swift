import Foundation
import Testing
@testable import AgentCommands
import PortwardenModel

/// `portwarden-agent scan` as a user runs it: the built executable, its output and exit code.
struct ScanCommandTests {
    static let agent = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("portwarden-agent").path
    static let fixture: String = {
        let tests = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast(2)
        return tests.joined(separator: "/") + "/HostScanTests/Fixtures/proc"
    }()

    func agent(_ arguments: [String], as user: [String] = []) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = user + [Self.agent] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    @Test func jsonIsTheWireFormat() throws {
        let result = try agent(["scan", "--format", "json", "--proc-root", Self.fixture])
        #expect(result.status == 0)
        let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(result.out.utf8))
        #expect(snapshot.schema == 1)
        #expect(snapshot.listeners.count == 9)
        #expect(result.err.contains("socket 9999"), "warnings go to stderr too")
    }

    @Test func tableIsSortedAlignedAndPlainWhenPiped() throws {
        let result = try agent(["scan", "--proc-root", Self.fixture])
        #expect(result.status == 0)
        #expect(!result.out.contains("\u{1B}["), "no colour when stdout is not a terminal")
        let lines = result.out.split(separator: "\n").filter { !$0.hasPrefix("unresolved") }
        #expect(lines.first?.hasPrefix("PROTO  ADDRESS:PORT") == true)
        let scopeColumn = try #require(lines.first?.range(of: "SCOPE")?.lowerBound.utf16Offset(in: String(lines[0])))
        for line in lines.dropFirst() {
            let scope = String(line).dropFirst(scopeColumn).prefix { $0 != " " }
            #expect(["any", "loopback", "specific"].contains(scope), "\(line)")
        }
        let ports = lines.dropFirst().compactMap { line in
            line.split(separator: " ")[1].split(separator: ":").last.flatMap { Int($0) }
        }
        #expect(ports == ports.sorted())
        #expect(result.out.contains("sshd[200],sshd[201]"))
        #expect(result.out.contains("unresolved socket 9999"))
    }

    @Test func colourOnlyWhenAsked() {
        let snapshot = Snapshot(host: Host(hostname: "h", machineID: nil, bootID: nil, kernel: nil, os: nil),
                                collectedAt: "2026-11-25T00:00:00Z", complete: true, ownershipComplete: true,
                                warnings: [], namespaces: [], listeners: [
                                    Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: 557, scope: .any,
                                             netns: 1, hostNetns: true, inode: 1, uid: 0, processes: []),
                                ], unresolved: [])
        #expect(ListenerTable(colour: true).render(snapshot).contains("\u{1B}[33m"))
        #expect(!ListenerTable(colour: false).render(snapshot).contains("\u{1B}"))
    }

    /// vmsd's `--port 557` stands in for a secret: redacted when a name says so, from the
    /// command line or the config, and never otherwise.
    @Test func redactNamesFromFlagsAndConfigApplyToWhatIsPrinted() throws {
        func vmsd(_ arguments: [String]) throws -> [String]? {
            let result = try agent(["scan", "--format", "json", "--proc-root", Self.fixture] + arguments)
            let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(result.out.utf8))
            return snapshot.listeners.first { $0.port == 557 }?.processes.first?.cmdline
        }
        #expect(try vmsd([]) == ["/opt/vms/bin/vmsd", "--port", "557"])
        #expect(try vmsd(["--redact", "PORT"]) == ["/opt/vms/bin/vmsd", "--port", "<redacted>"])
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString).yaml").path
        try "redact:\n  - po*\n".write(toFile: config, atomically: true, encoding: .utf8)
        defer { unlink(config) }
        #expect(try vmsd(["--config", config]) == ["/opt/vms/bin/vmsd", "--port", "<redacted>"])
    }

    @Test func aRedactNameThatIsNotANameIsAUsageError() throws {
        let result = try agent(["scan", "--redact", "(?i)token"])
        #expect(result.status == 2)
        #expect(result.err.contains("(?i)token") && result.err.contains("* for any run"), "\(result.err)")
    }

    @Test func unreadableRootExitsThreeWithTheReason() throws {
        let result = try agent(["scan", "--proc-root", "/nonexistent/proc"])
        #expect(result.status == 3, "could not do the job")
        #expect(result.err.contains("cannot scan /nonexistent/proc"))
    }

    @Test func badFormatNamesTheChoices() throws {
        let result = try agent(["scan", "--format", "yaml"])
        #expect(result.status == 2, "a usage error: 2, not argument-parser's 64")
        #expect(result.err.contains("table") && result.err.contains("json"))
    }
}
