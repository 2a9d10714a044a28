import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing

/// The case (f), end to end, on any machine where the tests run as root: a real
/// listener on 557 under the shipped policy, reported by the real agent, then stopped, on a
/// host where the agent cannot read the other processes' descriptors and namespaces, so
/// that every snapshot is incomplete. Where the listener's namespace was read in full its
/// finding resolves; where it was not, the same stop keeps it open, shown as unknown.
extension ServeTests {
    /// Where the listener lives.
    enum ListenerPlace {
        /// The agent's own network namespace, whose tables it reads in full through /proc/self.
        case agentsNamespace
        /// A namespace of its own, which once the listener stops holds only a process the
        /// agent cannot read: no report after the stop can read it.
        case namespaceLeftUnreadable
    }

    static let listenFixture = URL(fileURLWithPath: portwarden).deletingLastPathComponent()
        .appendingPathComponent("listen-fixture").path

    /// The collector inside a namespace host, on its loopback, with the shipped policy; web-01
    /// enrolled there by root (enrollment is not what is tested). A confined process
    /// listens on 0.0.0.0:557 in `place`; the confined agent reports (the finding opens), the
    /// listener is killed, the confined agent reports again. Returns the host, the
    /// listener's namespace, and what the confined agent's scan said between the two.
    func reportAListenerStopped(in place: ListenerPlace) throws -> (host: NamespaceHost, netns: UInt64, scan: Snapshot) {
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let host = try NamespaceHost()
        // The host's own loopback: no other test's port can be taken.
        let collector = "127.0.0.1:4443"
        try host.start([Self.portwarden, "serve", "--state-dir", state, "--listen", collector, "--policies", Self.policies],
                       log: state + "/serve.log", until: "listening on")
        let config = state + "/agent.yaml"
        try "collector: \(collector)\nstate_dir: \(state)/agent\n".write(toFile: config, atomically: true, encoding: .utf8)
        let enrolled = try host.run(.root, [Self.agent, "enroll", "--config", config, "--secret-file", state + "/agent.secret",
                                           "--ca-file", state + "/ca.pem", "--name", "web-01"])
        try #require(enrolled.status == 0, "\(enrolled.output)")

        let own = place == .namespaceLeftUnreadable ? ["unshare", "--net", "--"] : []
        let (listener, line) = try host.start(.confined, own + [Self.listenFixture, "tcp4:0.0.0.0:557"])
        if place == .namespaceLeftUnreadable {
            // Root's process, which the agent cannot read, keeps the namespace once the listener is gone.
            try host.start(.root, ["sh", "-c", "echo up && exec sleep 300"], netnsOf: try host.pid(of: listener))
        }
        let netns = try #require(line.split(separator: " ").first { $0.hasPrefix("netns=") }.flatMap { UInt64($0.dropFirst(6)) },
                                 "\(line)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let report = [Self.agent, "run", "--once", "--config", config]

        let first = try host.run(.confined, report)
        try #require(first.status == 0, "\(first.output)")
        #expect(try database.host(named: "web-01")?.complete == false,
                "the agent cannot read the host's other processes: every snapshot is incomplete")
        let opened = try database.findingHistory(host: "web-01").filter { $0.port == 557 }
        try #require(opened.map(\.rule) == ["openvms-sysipc-off-openvms"] && opened.first?.closed == nil, "\(opened)")

        try host.kill(listener)
        let scanned = try host.run(.confined, ["sh", "-c", "exec \"$0\" scan --format json 2>/dev/null", Self.agent])
        let scan = try JSONDecoder().decode(Snapshot.self, from: Data(scanned.output.utf8))
        sleep(1)  // the next report is collected in a later second than the first
        let second = try host.run(.confined, report)
        try #require(second.status == 0, "\(second.output)")
        #expect(try database.host(named: "web-01")?.complete == false, "\(scan.warnings)")
        return (host, netns, scan)
    }

    @Test(.enabled(if: NamespaceHost.available, "needs root, and network, PID and user namespaces (unshare)"))
    func aStoppedListenerResolvesThoughTheAgentCannotReadEveryProcess() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (host, netns, scan) = try reportAListenerStopped(in: .agentsNamespace)
        defer { host.stop() }
        #expect(!scan.complete && scan.completeNamespaces?.contains(netns) == true, "\(scan)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let findings = try database.findingHistory(host: "web-01").filter { $0.port == 557 }
        #expect(findings.count == 1 && findings.first?.closed != nil, "\(findings)")
        #expect(try !database.openListeners(host: "web-01").contains { $0.port == 557 })
    }

    /// The control: the same stop, in a namespace the report after it could not read.
    @Test(.enabled(if: NamespaceHost.available, "needs root, and network, PID and user namespaces (unshare)"))
    func aStoppedListenerInANamespaceNotReadStaysOpenAsUnknown() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (host, netns, scan) = try reportAListenerStopped(in: .namespaceLeftUnreadable)
        defer { host.stop() }
        #expect(!scan.complete && scan.completeNamespaces?.contains(netns) == false, "\(scan)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let findings = try database.findingHistory(host: "web-01").filter { $0.port == 557 }
        #expect(findings.count == 1 && findings.first?.closed == nil, "\(findings)")
        let kept = try database.openListeners(host: "web-01").filter { $0.port == 557 }
        #expect(kept.count == 1 && kept.first?.unseenSince != nil, "\(kept)")
        let shown = try portwarden(["report", "host", "web-01", "--state-dir", state])
        let unknown = try #require(shown.output.range(of: "Unknown (namespace not read"), "\(shown.output)")
        #expect(shown.output[unknown.upperBound...].contains("0.0.0.0:557"), "\(shown.output)")

        // Root's agent reads every process, the namespace too: the listener is gone.
        sleep(1)
        let read = try host.run(.root, [Self.agent, "run", "--once", "--config", state + "/agent.yaml"])
        try #require(read.status == 0, "\(read.output)")
        let resolved = try database.findingHistory(host: "web-01").filter { $0.port == 557 }
        #expect(resolved.count == 1 && resolved.first?.closed != nil, "\(resolved)")
    }
}
