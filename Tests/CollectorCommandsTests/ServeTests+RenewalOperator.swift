import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// What an operator does beside a running agent: `renew --force` while `run` reports,
/// and a host whose certificate ended while it was off.
extension ServeTests {
    /// `renew --force` while `run` is running: the collector refuses the old certificate
    /// once the new one is used, so `run` must take the one on disk, not go dark.
    @Test func aRunningAgentTakesACertificateRenewedBesideIt() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let port = try unusedPort()
        let server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        let config = try enrollAgent("web-01", port: port)
        let agentState = state + "/agent"
        let run = Process()
        run.executableURL = URL(fileURLWithPath: Self.agent)
        run.arguments = ["run", "--config", config, "--interval", "1"]
        run.standardOutput = FileHandle.nullDevice
        let runLog = state + "/run.log"
        FileManager.default.createFile(atPath: runLog, contents: nil)
        run.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: runLog))
        try run.run()
        // SIGKILL: the agent's loop sleeps, and a SIGTERM the test runner ignores would be ignored by it too.
        defer { kill(run.processIdentifier, SIGKILL); run.waitUntilExit() }
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        func reports() throws -> Int64 { try database.receiptRuns(host: "web-01").map(\.reports).reduce(0, +) }
        func waitFor(_ condition: () throws -> Bool) throws -> Bool {
            for _ in 0..<100 { if try condition() { return true }; usleep(100_000) }
            return false
        }
        #expect(try waitFor { try reports() >= 1 }, "run reports")
        // Its reports go on one connection, kept from each to the next: three more
        // reports, and no handshake but that of each /metrics fetched here.
        let fleet = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try heldIdentity(agentState).context, timeout: 5)
        func handshakes() throws -> Int {
            let metrics = try fleet.get("/metrics").text
            return ["false", "true"].compactMap { metricSample(metrics, "portwarden_tls_handshakes_total{resumed=\"\($0)\"}") }.reduce(0, +)
        }
        let (handshakesBefore, reportsBefore) = (try handshakes(), try reports())
        #expect(try waitFor { try reports() >= reportsBefore + 3 })
        #expect(try handshakes() == handshakesBefore + 1, "only the second /metrics fetch's")
        let logged = try String(contentsOfFile: runLog, encoding: .utf8)
        #expect(logged.contains("connection=\"full\"") && logged.contains("connection=\"kept\"")
                    && logged.contains("(1 as unchanged reports), on the connection the report before left open"),
                "the log says how each cycle's report went: \(logged)")

        let renewed = try agent(["renew", "--force", "--config", config])
        try #require(renewed.status == 0, "\(renewed.output)")
        let newSerial = try heldIdentity(agentState).serial
        // The new certificate presented (a handshake, as an operator's next command might
        // make): from now on the old one is refused.
        let probe = try TLSSocket.connect(host: "127.0.0.1", port: UInt16(port), context: try heldIdentity(agentState).context,
                                          session: nil, timeout: 5)
        probe.close()
        #expect(try waitFor { try database.certificates(host: "web-01").first { $0.serial == newSerial }?.firstPresentedAt != nil })
        let before = try reports()
        #expect(try waitFor { try reports() >= before + 2 }, "run goes on reporting with the renewed certificate")
    }

    /// A certificate that ended while the host was off cannot renew: said so, with what
    /// to do, exit 3 — not "try again later" (75), which cron would retry for ever.
    @Test func anExpiredCertificateIsToldToEnrollAgain() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let pki = try TestPKI()
        let agentState = state + "/agent"
        try FileManager.default.createDirectory(atPath: agentState, withIntermediateDirectories: true)
        let (certificate, key) = try pki.host("web-01", days: 1, from: -3 * 86_400)
        try key.write(to: agentState + "/host.key")
        try StateFile.write(try certificate.pem(), to: agentState + "/host.pem", mode: 0o644)
        try StateFile.write(try pki.ca.certificate.pem(), to: agentState + "/ca.pem", mode: 0o644)
        let renewed = try agent(["renew", "--collector", "127.0.0.1:\(try unusedPort())", "--state-dir", agentState])
        #expect(renewed.status == 3, "\(renewed.output)")
        #expect(renewed.output.contains("expired at") && renewed.output.contains("enroll --force"), "\(renewed.output)")
    }
}
