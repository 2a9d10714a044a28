import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// Host certificate renewal with the real `portwarden serve` and `portwarden-agent`:
/// short lifetimes, the old certificate's overlap ending at the new one's first use.
extension ServeTests {
    /// The pair the agent holds now, as a TLS context, and its serial.
    func heldIdentity(_ agentState: String) throws -> (context: TLSContext, serial: String, key: PrivateKey) {
        let certificate = try Certificate(pem: StateFile.read(agentState + "/host.pem"))
        let key = try PrivateKey.read(from: agentState + "/host.key")
        let context = try TLSContext.client(trusting: Certificate.all(pem: StateFile.read(agentState + "/ca.pem")),
                                            certificate: certificate, key: key)
        return (context, certificate.serial, key)
    }

    /// A report over a connection of its own, offering `sessions`' session when given:
    /// its status, nil when the collector closed the connection instead of answering,
    /// and whether the session was resumed.
    func reportOnce(_ port: Int, _ context: TLSContext, _ host: String, sequence: UInt64,
                    sessions: SessionCache? = nil) -> (status: Int?, resumed: Bool) {
        guard let socket = try? TLSSocket.connect(host: "127.0.0.1", port: UInt16(port), context: context,
                                                  session: sessions?.session, timeout: 5) else { return (nil, false) }
        defer { socket.close() }
        let body = Self.report(host, sequence: sequence)
        let head = "POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(body.count)\r\nConnection: close\r\n"
            + "Content-Type: application/json\r\n\r\n"
        try? socket.write(Array(head.utf8) + body)
        let response = try? HTTPResponse.read(from: socket)
        if let sessions, let session = socket.session { sessions.session = session }
        return (response?.status, socket.sessionReused)
    }

    @Test func aHostRenewsWithItsCertificateAndTheOldOneStopsAtTheNewOnesFirstUse() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let port = try unusedPort()
        let server = try serve(port: port, ["--certificate-lifetime", "1h"])
        defer { server.terminate(); server.waitUntilExit() }
        let agentState = state + "/agent"
        let enrolled = try agentEnroll(port, name: "web-01", credential: state + "/agent.secret", agentState: agentState)
        try #require(enrolled.status == 0, "\(enrolled.output)")
        let issued = try Certificate(pem: StateFile.read(agentState + "/host.pem"))
        #expect(issued.notAfter - issued.notBefore == 3_600 + 300, "an hour from now, backdated five minutes")
        let old = try heldIdentity(agentState)
        let oldSessions = SessionCache()
        #expect(reportOnce(port, old.context, "web-01", sequence: 1, sessions: oldSessions).status == 200)
        let collector = ["--collector", "127.0.0.1:\(port)", "--state-dir", agentState]

        let early = try agent(["renew"] + collector)
        #expect(early.status == 0 && early.output.contains("not due"), "\(early.output)")
        #expect(try heldIdentity(agentState).serial == old.serial)

        let renewed = try agent(["renew", "--force"] + collector)
        #expect(renewed.status == 0 && renewed.output.contains("renewed"), "\(renewed.output)")
        let new = try heldIdentity(agentState)
        #expect(new.serial != old.serial)
        #expect(try PrivateKey.read(from: agentState + "/host.key").pem() != old.key.pem(), "a new key")
        #expect(!FileManager.default.fileExists(atPath: agentState + "/host.key.next"))
        #expect(!FileManager.default.fileExists(atPath: agentState + "/host.pem.next"))
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let records = try database.certificates(host: "web-01")
        #expect(records.map(\.serial) == [old.serial, new.serial])
        #expect(records.last?.renews == old.serial && records.first?.renewedBy == new.serial)
        #expect(records.allSatisfy { $0.revokedAt == nil })

        // Until the new certificate is used, the old one still reports, resumed or not.
        let resumedBefore = reportOnce(port, old.context, "web-01", sequence: 2, sessions: oldSessions)
        #expect(resumedBefore.status == 200 && resumedBefore.resumed, "\(resumedBefore)")
        #expect(reportOnce(port, old.context, "web-01", sequence: 3).status == 200)

        // What the old certificate may not do: renew again; nor may the new one for its own
        // key or another name.
        func renewing(_ context: TLSContext, _ key: PrivateKey, _ name: String) throws -> Int {
            let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 5)
            do { _ = try connection.renew(csr: try CertificateRequest(key: key, commonName: name).pem()) } catch let refused as EnrollmentRefused {
                return refused.status
            }
            return 200
        }
        #expect(try renewing(old.context, PrivateKey.generate(), "web-01") == 403, "a renewed certificate renews no more")
        #expect(try renewing(new.context, new.key, "web-01") == 400, "the same key")
        #expect(try renewing(new.context, PrivateKey.generate(), "db-01") == 403, "another name")

        // The new certificate's first use ends the overlap: the old one is refused, its
        // resumed session too.
        let ran = try agent(["run", "--once"] + collector)
        #expect(ran.status == 0, "\(ran.output)")
        #expect(try database.certificates(host: "web-01").last?.firstPresentedAt != nil)
        let resumedAfter = reportOnce(port, old.context, "web-01", sequence: 4, sessions: oldSessions)
        #expect(resumedAfter.resumed && resumedAfter.status == nil, "\(resumedAfter)")
        #expect(reportOnce(port, old.context, "web-01", sequence: 5).status == nil)
        // The new one is answered (400: this made-up report is older than the agent's).
        #expect(reportOnce(port, new.context, "web-01", sequence: 6).status != nil)
        let audit = try auditActions().filter { $0["action"] == "certificate.renewed" }
        #expect(audit.count == 1 && audit.first?["host"] == "web-01", "\(audit)")

        // A revoked certificate renews no more: the host enrolls again, through an operator.
        // The collector closes its connections at the handshake, as it does its reports':
        // to the agent, that is no answer (75).
        try #require(try portwarden(["hosts", "revoke", "web-01", "--state-dir", state]).status == 0)
        let refused = try agent(["renew", "--force"] + collector)
        #expect(refused.status == 75 && refused.output.contains("revoked"), "\(refused.output)")
        #expect(try auditActions().filter { $0["action"] == "certificate.renewed" }.count == 1)
        #expect(try heldIdentity(agentState).serial == new.serial, "the pair on disk is kept")
    }

    /// `run` renews when a third of the lifetime is left (a two-minute certificate,
    /// backdated five minutes, always is), reports with the new certificate, and keeps
    /// reporting when a renewal fails.
    @Test func runRenewsWhenDueAndKeepsReportingWhenRenewalFails() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let port = try unusedPort()
        let server = try serve(port: port, ["--certificate-lifetime", "2m"])
        defer { server.terminate(); server.waitUntilExit() }
        let agentState = state + "/agent"
        try #require(try agentEnroll(port, name: "web-01", credential: state + "/agent.secret", agentState: agentState).status == 0)
        let first = try heldIdentity(agentState).serial
        let collector = ["--collector", "127.0.0.1:\(port)", "--state-dir", agentState]

        let ran = try agent(["run", "--once"] + collector)
        #expect(ran.status == 0, "\(ran.output)")
        #expect(ran.output.contains("renewed"), "\(ran.output)")
        let second = try heldIdentity(agentState).serial
        #expect(second != first)
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        #expect(try database.certificates(host: "web-01").last?.firstPresentedAt != nil, "the report used the new certificate")
        #expect(try database.host(named: "web-01") != nil)

        // A renewal that cannot store its key fails; the report still goes out.
        try FileManager.default.createDirectory(atPath: agentState + "/host.key.next/x", withIntermediateDirectories: true)
        let failing = try agent(["run", "--once"] + collector)
        #expect(failing.status == 0, "\(failing.output)")
        #expect(failing.output.contains("renewal failed"), "\(failing.output)")
        #expect(try heldIdentity(agentState).serial == second)
        #expect(try database.receiptRuns(host: "web-01").map(\.reports).reduce(0, +) == 2)
    }
}
