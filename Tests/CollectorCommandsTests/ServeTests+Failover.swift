import CollectorStore
import Foundation
import PortwardenTestSupport
import Testing

/// `portwarden-agent` given two collectors, one of them down, as an operator runs it:
/// enroll, run and renew each move to the one that answers and say so in the log.
extension ServeTests {
    /// Makes the agent start with `address` next time, as if it had answered last.
    func keep(_ address: String, in agentState: String) throws {
        try FileManager.default.createDirectory(atPath: agentState, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        try (address + "\n").write(toFile: agentState + "/collector", atomically: true, encoding: .utf8)
    }

    @Test func enrollRunAndRenewMoveToTheCollectorThatAnswers() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let (down, port) = (try unusedPort(), try unusedPort())
        let server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        let agentState = state + "/agent", config = state + "/agent.yaml"
        try "collector:\n  - 127.0.0.1:\(down)\n  - 127.0.0.1:\(port)\nstate_dir: \(agentState)\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let failover = "event=collector_failover", from = "from=\"127.0.0.1:\(down)\"", to = "to=\"127.0.0.1:\(port)\""

        try keep("127.0.0.1:\(down)", in: agentState)
        let enrolled = try agent(["enroll", "--config", config, "--secret-file", state + "/agent.secret", "--ca-file", state + "/ca.pem",
                                  "--name", "web-01"])
        #expect(enrolled.status == 0, "\(enrolled.output)")
        #expect(enrolled.output.contains(failover) && enrolled.output.contains(from) && enrolled.output.contains(to), "\(enrolled.output)")

        try keep("127.0.0.1:\(down)", in: agentState)
        let moved = try agent(["run", "--once", "--config", config])
        #expect(moved.status == 0, "\(moved.output)")
        #expect(moved.output.contains(failover) && moved.output.contains(from) && moved.output.contains(to), "\(moved.output)")
        let kept = try agent(["run", "--once", "--config", config])
        #expect(kept.status == 0 && !kept.output.contains(failover), "the next run starts with the one that answered: \(kept.output)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        #expect(try database.receiptRuns(host: "web-01").map(\.reports).reduce(0, +) == 2)

        try keep("127.0.0.1:\(down)", in: agentState)
        let renewed = try agent(["renew", "--force", "--config", config])
        #expect(renewed.status == 0 && renewed.output.contains("renewed:"), "\(renewed.output)")
        #expect(renewed.output.contains(failover) && renewed.output.contains(from), "\(renewed.output)")

        // Every collector down: waiting (75), the reason naming each; nothing lost.
        let downOnly = try agent(["run", "--once", "--config", config, "--collector", "127.0.0.1:\(down)",
                                  "--collector", "127.0.0.1:\(try unusedPort())"])
        #expect(downOnly.status == 75 && downOnly.output.contains("event=delivery_waiting"), "\(downOnly.output)")
        #expect(downOnly.output.contains("127.0.0.1:\(down): "), "\(downOnly.output)")
        let renewDown = try agent(["renew", "--force", "--config", config, "--collector", "127.0.0.1:\(down)",
                                   "--collector", "127.0.0.1:\(try unusedPort())"])
        #expect(renewDown.status == 75 && renewDown.output.contains("no collector answered: 127.0.0.1:"), "\(renewDown.output)")
        let back = try agent(["run", "--once", "--config", config])
        #expect(back.status == 0, "\(back.output)")
        #expect(try database.receiptRuns(host: "web-01").map(\.reports).reduce(0, +) == 4)
    }

    /// A collector list the agent refuses is a usage error (2) naming the entry, before
    /// anything is dialled.
    @Test func aBadCollectorListIsAUsageError() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try "collector: [a.example:8443, A.example.:8443]\n".write(toFile: state + "/agent.yaml", atomically: true, encoding: .utf8)
        let listed = try agent(["run", "--once", "--config", state + "/agent.yaml", "--state-dir", state])
        #expect(listed.status == 2 && listed.output.contains("agent.yaml:1:29: collector: \"A.example.:8443\" is listed twice"),
                "\(listed.output)")
        let flag = try agent(["run", "--once", "--collector", "a.example:8443,b.example:8443", "--state-dir", state])
        #expect(flag.status == 2 && flag.output.contains("repeat the flag"), "\(flag.output)")
    }
}
