import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// `portwarden-agent run --once` against `portwarden serve` when the answer is not 200:
/// a report over the collector's limit, a spooled report refused for good, and a state
/// directory another user could write into.
extension ServeTests {
    /// A CA, the enrollment secret, a collector (with `serveArguments`) and an agent
    /// enrolled as web-01 through it; the agent's config file and state directory.
    func enrolledAgent(port: Int, _ serveArguments: [String] = []) throws -> (server: Process, config: String, agentState: String) {
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let agentState = state + "/agent"
        let config = state + "/agent.yaml"
        try "collector: 127.0.0.1:\(port)\nstate_dir: \(agentState)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let server = try serve(port: port, serveArguments)
        let enrolled = try agent(["enroll", "--config", config, "--secret-file", state + "/agent.secret",
                                  "--ca-file", state + "/ca.pem", "--name", "web-01"])
        try #require(enrolled.status == 0, "\(enrolled.output)")
        return (server, config, agentState)
    }

    /// The attack: an unprivileged process with a huge command line holding many
    /// listeners makes the host's report larger than the collector takes. The collector
    /// answers 413 stating its limit; the agent sends the report again trimmed to it, and
    /// every listener is stored — the host is not silenced.
    @Test func anOversizedReportIsSentAgainTrimmedToTheStatedLimitAndStored() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = try unusedPort()
        let (server, config, _) = try enrolledAgent(port: port, ["--max-report-bytes", "131072"])
        defer { server.terminate(); server.waitUntilExit() }
        // Ten arguments of 390 bytes under 64 listeners: each owner's command line is
        // within the scan's 4 KiB bound (so it is sent whole), and 64 × 4 KiB is over the
        // collector's 128 KiB.
        let fixture = Process()
        fixture.executableURL = URL(fileURLWithPath: URL(fileURLWithPath: Self.portwarden).deletingLastPathComponent()
            .appendingPathComponent("listen-fixture").path)
        fixture.arguments = Array(repeating: "tcp4:127.0.0.1:0", count: 64) + ["--"]
            + Array(repeating: String(repeating: "A", count: 390), count: 10)
        fixture.runAsUser(65534)
        let output = Pipe()
        fixture.standardOutput = output
        try fixture.run()
        // SIGKILL: the fixture waits in pause(), and SIGTERM did not always end it.
        defer { kill(fixture.processIdentifier, SIGKILL); fixture.waitUntilExit() }
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        let ports = line.split(separator: ",").compactMap { $0.split(separator: ":").dropLast().last.flatMap { Int($0) } }
        try #require(ports.count == 64, "\(line)")

        let run = try agent(["run", "--once", "--config", config])
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("sent trimmed after a 413: snapshot ") && run.output.contains(": report trimmed from"), "\(run.output)")
        #expect(run.output.contains("to fit a limit of 131072 bytes: the command lines of"), "\(run.output)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let stored = Set(try database.openListeners(host: "web-01").map(\.port))
        #expect(Set(ports).isSubset(of: stored), "every listener of the big process is stored")
        #expect(stored.contains(port), "and the rest of the host")
        let reports = try database.receiptRuns(host: "web-01").map(\.reports).reduce(0, +)
        #expect(reports == 1)
    }

    /// A collector's 413 is read even though the agent was still writing when it came:
    /// 20 MB cannot all be written before the collector closes.
    @Test func theAnswerIsReadWhenTheCollectorClosesMidWrite() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let context = try enroll("web-01")
        let port = try unusedPort()
        let server = try serve(port: port, ["--max-report-bytes", "65536"])
        defer { server.terminate(); server.waitUntilExit() }
        let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 10)
        let response = try connection.post("/v1/reports", body: [UInt8](repeating: 0x20, count: 20_000_000))
        #expect(response.status == 413, "\(response.text)")
        #expect(response.statedReportLimit == 65536)
    }

    /// A spooled report the collector refuses for good (it names another host: 403) is
    /// set aside, and the reports after it are delivered in the same run.
    @Test func aReportRefusedForGoodDoesNotBlockTheOnesAfterIt() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = try unusedPort()
        let (server, config, agentState) = try enrolledAgent(port: port)
        server.terminate()
        server.waitUntilExit()
        for _ in 1...2 { _ = try agent(["run", "--once", "--config", config]) }
        let spooled = try FileManager.default.contentsOfDirectory(atPath: agentState + "/spool").filter { $0.hasSuffix(".json") }
        let newest = try #require(spooled.compactMap { Int($0.dropLast(5)) }.max())
        // Numbered 1, it sorts before the agent's own (never below the microseconds since the epoch).
        try Data(Self.report("db-01", sequence: 1)).write(to: URL(fileURLWithPath: agentState + "/spool/00000000000000000001.json"))

        let back = try serve(port: port)
        defer { back.terminate(); back.waitUntilExit() }
        let run = try agent(["run", "--once", "--config", config])
        #expect(run.status == 1, "one was set aside: \(run.output)")
        #expect(run.output.contains("set aside snapshot 1: the collector answered 403: this certificate belongs to web-01"), "\(run.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: agentState + "/spool").filter { $0.hasSuffix(".json") }.isEmpty)
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let reports = try database.receiptRuns(host: "web-01").map(\.reports).reduce(0, +)
        let last = try database.host(named: "web-01")?.lastSequence
        #expect(reports == 3 && last.map { $0 > newest } == true, "the agent's two spooled and this run's delivered")
    }

    /// The agent (root) refuses a state directory another user could plant a link in, and
    /// a link planted at its sequence file, each with what to do.
    @Test func aStateDirectoryOthersCouldWriteIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let port = try unusedPort()
        let (server, config, agentState) = try enrolledAgent(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        chmod(agentState, 0o770)
        let open = try agent(["run", "--once", "--config", config])
        #expect(open.status != 0 && open.output.contains("run: chmod go-w \(agentState)"), "\(open.output)")
        chmod(agentState, 0o700)

        let target = state + "/precious"
        try "precious\n".write(toFile: target, atomically: false, encoding: .utf8)
        symlink(target, agentState + "/sequence")
        let linked = try agent(["run", "--once", "--config", config])
        #expect(linked.status != 0 && linked.output.contains("a symbolic link or special file where a plain file belongs"),
                "\(linked.output)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "precious\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: agentState + "/spool").filter { $0.hasSuffix(".json") }.isEmpty,
                "nothing spooled under a number it could not trust")
    }
}

extension Process {
    /// Runs the process as `uid` (and the same gid): an unprivileged user's process.
    func runAsUser(_ uid: UInt32) {
        // Foundation's Process cannot drop privileges: setpriv does, and execs the rest.
        let arguments = arguments ?? []
        self.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", executableURL?.path ?? ""] + arguments
        executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
    }
}
