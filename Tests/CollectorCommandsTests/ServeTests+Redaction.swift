import CollectorClient
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import Testing

/// A secret in a listener's command line, end to end: a real process holding a real
/// socket with passwords in its argv, the real agent reporting it to a real `serve` under
/// a rule that keeps the owners' command lines in a finding. Nothing the collector keeps
/// or prints — database, WAL, log, reports, exports — holds a secret; the finding shows
/// where each was cut.
extension ServeTests {
    static let secrets = ["S3cretPW1", "T0kenPW2", "PassW3rd9", "PgS3cret4"]

    @Test(.enabled(if: getuid() == 0, "the agent reads another process's descriptors"))
    func aPasswordInAListenersCommandLineIsRedactedEndToEnd() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let policies = state + "/policies"
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        try """
            rules:
              - id: fixture-listener
                why: The test's listener, so that its owners' command lines are kept in a finding.
                severity: high
                when: process.name listen-fixture
            """.write(toFile: policies + "/rules.yaml", atomically: true, encoding: .utf8)
        let port = try unusedPort()
        let log = state + "/serve.log"
        let server = try serve(port: port, ["--policies", policies], log: log)
        defer { server.terminate(); server.waitUntilExit() }

        let fixture = Process()
        fixture.executableURL = URL(fileURLWithPath: URL(fileURLWithPath: Self.portwarden).deletingLastPathComponent()
            .appendingPathComponent("listen-fixture").path)
        fixture.arguments = ["tcp4:127.0.0.1:0", "--", "--password=S3cretPW1", "--token", "T0kenPW2",
                             "https://app:PassW3rd9@db.example/x", "PGPASSWORD=PgS3cret4"]
        let output = Pipe()
        fixture.standardOutput = output
        try fixture.run()
        defer { kill(fixture.processIdentifier, SIGKILL); fixture.waitUntilExit() }
        _ = output.fileHandleForReading.availableData  // its socket is open once it has said so

        let agentState = state + "/agent", config = state + "/agent.yaml"
        try "collector: 127.0.0.1:\(port)\nstate_dir: \(agentState)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let enrolled = try agent(["enroll", "--config", config, "--secret-file", state + "/agent.secret",
                                  "--ca-file", state + "/ca.pem", "--name", "web-01"])
        try #require(enrolled.status == 0, "\(enrolled.output)")
        let run = try agent(["run", "--once", "--config", config])
        #expect(run.status == 0, "\(run.output)")

        func leaks(_ text: String) -> [String] { Self.secrets.filter { text.contains($0) } }
        let report = try portwarden(["report", "host", "web-01", "--format", "json", "--state-dir", state])
        #expect(report.status == 0, "\(report.output)")
        #expect(report.output.contains("fixture-listener") && leaks(report.output).isEmpty, "\(report.output)")
        for format in ["csv", "json"] {
            let export = try portwarden(["export", "findings", "--format", format, "--state-dir", state])
            #expect(export.status == 0 && leaks(export.output).isEmpty, "\(export.output)")
            // The finding keeps its owners' command lines: each secret is cut where it stood.
            for cut in ["--password=<redacted>", "PGPASSWORD=<redacted>", "https://app:<redacted>@db.example/x"] {
                #expect(export.output.contains(cut), "\(format): \(cut) in \(export.output)")
            }
        }
        #expect(leaks(run.output).isEmpty, "the agent's log: \(run.output)")
        server.terminate()
        server.waitUntilExit()
        #expect(leaks(try String(contentsOfFile: log, encoding: .utf8)).isEmpty, "the collector's log")
        // Every byte the collector wrote to its database, the write-ahead log included.
        for file in ["portwarden.sqlite", "portwarden.sqlite-wal"] {
            guard let bytes = FileManager.default.contents(atPath: state + "/" + file) else { continue }
            #expect(leaks(String(decoding: bytes, as: UTF8.self)).isEmpty, "\(file)")
        }
        let spooled = try FileManager.default.subpathsOfDirectory(atPath: agentState)
        for name in spooled {
            guard let bytes = FileManager.default.contents(atPath: agentState + "/" + name) else { continue }
            #expect(leaks(String(decoding: bytes, as: UTF8.self)).isEmpty, "the agent's \(name)")
        }
    }
}
