import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing

/// The case (f), end to end: a real listener on 557 under the shipped policy,
/// reported by the real agent, then stopped, on a host where one process hides its
/// namespace and descriptors — every snapshot incomplete — and the finding resolves,
/// because the namespace the listener lived in was read in full.
extension ServeTests {
    /// This machine's pid 1 hides its namespace from root (as an LSM or a sandbox does);
    /// elsewhere nothing makes the live snapshot incomplete and the case is not this one.
    static var aProcessHidesItsNamespace: Bool {
        getuid() == 0 && (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/1/ns/net")) == nil
    }

    @Test(.enabled(if: aProcessHidesItsNamespace, "needs root and a process whose namespace root cannot read (pid 1 here)"))
    func aStoppedListenerResolvesThoughAnotherProcessHidesItsNamespace() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies").path
        let port = try unusedPort()
        let (server, config, _) = try enrolledAgent(port: port, ["--policies", shipped])
        defer { server.terminate(); server.waitUntilExit() }

        // An address of its own, so no other test's 557 is taken for it.
        let fixture = Process()
        fixture.executableURL = URL(fileURLWithPath: URL(fileURLWithPath: Self.portwarden).deletingLastPathComponent()
            .appendingPathComponent("listen-fixture").path)
        fixture.arguments = ["tcp4:127.55.7.1:557"]
        let output = Pipe()
        fixture.standardOutput = output
        try fixture.run()
        var stopped = false
        defer { if !stopped { kill(fixture.processIdentifier, SIGKILL); fixture.waitUntilExit() } }
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        try #require(line.contains("127.55.7.1:557"), "\(line)")

        func findings() throws -> [FindingInterval] {
            try CollectorDatabase.open(path: state + "/portwarden.sqlite").findingHistory(host: "web-01")
                .filter { $0.address == "127.55.7.1" && $0.port == 557 }
        }
        let first = try agent(["run", "--once", "--config", config])
        try #require(first.status == 0, "\(first.output)")
        let opened = try findings()
        #expect(opened.map(\.rule) == ["openvms-sysipc-off-openvms"] && opened.first?.closed == nil, "\(opened)")

        kill(fixture.processIdentifier, SIGKILL)
        fixture.waitUntilExit()
        stopped = true
        sleep(1)  // the next report is collected in a later second than the first
        let second = try agent(["run", "--once", "--config", config])
        try #require(second.status == 0, "\(second.output)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        #expect(try database.host(named: "web-01")?.complete == false, "pid 1's namespace hidden: the snapshot is incomplete")
        let resolved = try findings()
        #expect(resolved.count == 1 && resolved.first?.closed != nil, "\(resolved)")
        #expect(try !database.openListeners(host: "web-01").contains { $0.address == "127.55.7.1" })
    }
}
