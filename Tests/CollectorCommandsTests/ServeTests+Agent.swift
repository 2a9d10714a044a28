import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import Testing

/// `portwarden-agent` against `portwarden serve`, both as an operator runs them.
extension ServeTests {
    /// `portwarden enroll secret`, printed once, kept where the agent will read it (and delete it).
    func writeSecret(_ path: String? = nil) throws {
        let made = try portwarden(["enroll", "secret", "--state-dir", state])
        try #require(made.status == 0, "\(made.output)")
        try made.output.write(toFile: path ?? state + "/agent.secret", atomically: true, encoding: .utf8)
    }

    func agent(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try execute(Self.agent, arguments)
    }

    /// `portwarden-agent enroll` as `name` with the secret `writeSecret` kept, its state in
    /// `state/agent`; the path of a config file that `run` reads.
    func enrollAgent(_ name: String, port: Int) throws -> String {
        let agentState = state + "/agent"
        let enrolled = try agent(["enroll", "--collector", "127.0.0.1:\(port)", "--secret-file", state + "/agent.secret",
                                  "--ca-file", state + "/ca.pem", "--state-dir", agentState, "--name", name])
        try #require(enrolled.status == 0, "\(enrolled.output)")
        let config = state + "/agent.yaml"
        try "collector: 127.0.0.1:\(port)\nstate_dir: \(agentState)\n".write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// Enroll with the secret, `run --once` from a config file, the collector away for
    /// ten report intervals and back for the eleventh: every snapshot arrives once, in order.
    @Test func theAgentEnrollsReportsAndLosesNothingWhileTheCollectorIsAway() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let port = try unusedPort()
        var server = try serve(port: port)
        let agentState = state + "/agent"
        let config = try enrollAgent("web-01", port: port)

        let first = try agent(["run", "--once", "--config", config])
        #expect(first.status == 0, "\(first.output)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        // The collector's own listener is on this host, so the agent's scan shows it.
        let listeners = try database.openListeners(host: "web-01")
        #expect(listeners.contains { $0.port == port && $0.owners.contains("portwarden") }, "\(listeners.map(\.port))")
        let shown = try portwarden(["report", "host", "web-01", "--state-dir", state])
        #expect(shown.status == 0 && shown.output.contains("127.0.0.1:\(port)") && shown.output.contains("portwarden"), "\(shown.output)")
        let listed = try portwarden(["hosts", "list", "--state-dir", state])
        #expect(listed.output.contains("web-01") && listed.output.contains("reporting"), "\(listed.output)")

        server.terminate()
        server.waitUntilExit()
        for _ in 1...10 {
            let away = try agent(["run", "--once", "--config", config])
            #expect(away.status == 75, "snapshots wait in the spool: \(away.output)")
        }
        let spooled = try FileManager.default.contentsOfDirectory(atPath: agentState + "/spool").filter { $0.hasSuffix(".json") }
        #expect(spooled.count == 10)

        server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        let back = try agent(["run", "--once", "--config", config])
        #expect(back.status == 0, "\(back.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: agentState + "/spool").filter { $0.hasSuffix(".json") }.isEmpty)
        let runs = try database.receiptRuns(host: "web-01").map { (first: $0.firstSequence!, last: $0.lastSequence!, reports: $0.reports) }
        let reports = runs.map(\.reports).reduce(0, +), lastSequence = try database.host(named: "web-01")?.lastSequence
        #expect(reports == 12, "twelve snapshots, each received once")
        // In order: a snapshot delivered after a newer one would have been taken for a
        // duplicate and not stored, so each run of receipts begins after the last one ends
        // (the agent's numbers are never below the microseconds since the epoch: they
        // rise, with gaps).
        #expect(runs.allSatisfy { $0.first <= $0.last }, "\(runs)")
        for (earlier, later) in zip(runs, runs.dropFirst()) { #expect(later.first > earlier.last, "\(runs)") }
        #expect(lastSequence == runs.last?.last, "\(runs)")
        let waited = spooled.compactMap { Int($0.dropLast(5)) }.sorted()
        #expect(waited.count == 10 && runs.first!.first < waited.first! && waited.last! < runs.last!.last, "\(runs) \(waited)")
    }

    /// A spool file that is not a snapshot is set aside with a warning and exit 1; the
    /// rest are delivered, and the next run is clean again.
    @Test func aCorruptSpoolFileIsSetAsideByTheAgent() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let port = try unusedPort()
        let agentState = state + "/agent"
        let config = state + "/agent.yaml"
        try "collector: 127.0.0.1:\(port)\nstate_dir: \(agentState)\n".write(toFile: config, atomically: true, encoding: .utf8)
        var server = try serve(port: port)
        let enrolled = try agent(["enroll", "--config", config, "--secret-file", state + "/agent.secret",
                                  "--ca-file", state + "/ca.pem", "--name", "web-01"])
        try #require(enrolled.status == 0, "\(enrolled.output)")
        server.terminate()
        server.waitUntilExit()
        for _ in 1...3 { _ = try agent(["run", "--once", "--config", config]) }
        // The second snapshot is torn, as a crash or a bad disk might leave it.
        let spooled = try FileManager.default.contentsOfDirectory(atPath: agentState + "/spool").filter { $0.hasSuffix(".json") }.sorted()
        try #require(spooled.count == 3, "\(spooled)")
        let torn = agentState + "/spool/" + spooled[1], tornSequence = UInt64(spooled[1].dropLast(5))!
        let whole = try Data(contentsOf: URL(fileURLWithPath: torn))
        try whole.prefix(whole.count / 3).write(to: URL(fileURLWithPath: torn))

        server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        let back = try agent(["run", "--once", "--config", config])
        #expect(back.status == 1, "a snapshot was set aside: \(back.output)")
        #expect(back.output.contains("set aside snapshot \(tornSequence): not a snapshot, at byte"), "\(back.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: agentState + "/spool/rejected") == [spooled[1] + ".bad"])
        let again = try agent(["run", "--once", "--config", config])
        #expect(again.status == 0, "\(again.output)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let reports = try database.receiptRuns(host: "web-01").map(\.reports).reduce(0, +)
        #expect(reports == 4, "the first, third, fourth and fifth delivered")
    }

    @Test func aConfigFileMistakeNamesItsLineAndColumn() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try "collector: 127.0.0.1:1\nintervall: 5\n".write(toFile: state + "/agent.yaml", atomically: true, encoding: .utf8)
        let agentRun = try agent(["run", "--once", "--config", state + "/agent.yaml"])
        #expect(agentRun.status != 0)
        #expect(agentRun.output.contains("agent.yaml:2:1: unknown key \"intervall\"; did you mean \"interval\"?"), "\(agentRun.output)")
        try "listen: 127.0.0.1\n".write(toFile: state + "/collector.yaml", atomically: true, encoding: .utf8)
        let serveRun = try portwarden(["serve", "--config", state + "/collector.yaml"])
        #expect(serveRun.status != 0)
        #expect(serveRun.output.contains("collector.yaml:1:9: expected host:port"), "\(serveRun.output)")
    }

    /// SIGTERM while a report is half sent: the collector takes the rest, answers, stores
    /// it, and only then exits.
    @Test func sigtermFinishesTheReportInFlight() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let context = try enroll("web-01")
        let port = try unusedPort()
        let server = try serve(port: port)
        let body = Self.report("web-01", sequence: 1)
        let socket = try TLSSocket.connect(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 10)
        let head = "POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.count)\r\n\r\n"
        try socket.write(Array(head.utf8) + body.prefix(body.count / 2))
        usleep(200_000)
        server.terminate()  // SIGTERM
        usleep(300_000)
        try socket.write(Array(body.dropFirst(body.count / 2)))
        let response = try HTTPResponse.read(from: socket)
        #expect(response.status == 200, "\(response.text)")
        server.waitUntilExit()
        #expect(server.terminationReason == .exit && server.terminationStatus == 0)
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        #expect(try database.openListeners(host: "web-01").map(\.port) == [1001])
    }
}

extension ServeTests {
    /// The example configs under Agent/ and Collector/ are read without complaint.
    @Test func theShippedExampleConfigsParse() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let agentRun = try agent(["run", "--once", "--config", root + "/Agent/agent.yaml", "--state-dir", state])
        #expect(agentRun.output.contains("enroll this host first"), "read the file, then wanted an identity: \(agentRun.output)")
        let serve = try portwarden(["serve", "--config", root + "/Collector/collector.yaml", "--state-dir", state, "--no-policy"])
        #expect(serve.output.contains(state + "/server.pem") || serve.output.contains("ca init"), "read the file, then wanted a CA: \(serve.output)")
    }
}
