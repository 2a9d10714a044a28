import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// The collector's own certificate reissued, and the fleet CA rotated, while agents
/// enrolled before keep reporting.
extension ServeTests {
    @Test func aReissuedServerCertificateKeepsEnrolledAgentsReporting() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1", "--name", "collector.test"]).status == 0)
        try writeSecret()
        let port = try unusedPort()
        var server = try serve(port: port)
        let agentState = state + "/agent"
        try #require(try agentEnroll(port, name: "web-01", credential: state + "/agent.secret", agentState: agentState).status == 0)
        let collector = ["--collector", "127.0.0.1:\(port)", "--state-dir", agentState]
        #expect(try agent(["run", "--once"] + collector).status == 0)
        let before = try Certificate(pem: StateFile.read(state + "/server.pem"))
        #expect(before.subjectAltNames == ["127.0.0.1", "collector.test"], "\(before.subjectAltNames)")

        let reissued = try portwarden(["ca", "server-cert", "--state-dir", state])
        #expect(reissued.status == 0, "\(reissued.output)")
        let after = try Certificate(pem: StateFile.read(state + "/server.pem"))
        #expect(after.serial != before.serial && after.subjectAltNames == before.subjectAltNames)
        let audit = try portwarden(["audit", "--state-dir", state, "--since", "1h"]).output
        #expect(audit.contains("ca.initialized") && audit.contains("ca.server_certificate"), "\(audit)")
        #expect(try PrivateKey.read(from: state + "/server.key").pem() != StateFile.read(agentState + "/host.key"))
        server.terminate()
        server.waitUntilExit()
        server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        let ran = try agent(["run", "--once"] + collector)
        #expect(ran.status == 0, "\(ran.output)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        #expect(try database.receiptRuns(host: "web-01").map(\.reports).reduce(0, +) == 2)
        // The names can be changed too.
        let renamed = try portwarden(["ca", "server-cert", "--state-dir", state, "--name", "127.0.0.1"])
        #expect(renamed.status == 0, "\(renamed.output)")
        #expect(try Certificate(pem: StateFile.read(state + "/server.pem")).subjectAltNames == ["127.0.0.1"])
    }

    /// `ca rotate` → both agents renew onto the new CA at their next report → `ca
    /// retire-old` (refused while a host holds only the old CA's certificate, then
    /// forced) → both still report; the host that never renewed is refused.
    @Test func aCARotationKeepsTwoAgentsReportingThroughout() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let port = try unusedPort()
        var server = try serve(port: port, ["--certificate-lifetime", "1h"])
        func restart() throws {
            server.terminate()
            server.waitUntilExit()
            server = try serve(port: port, ["--certificate-lifetime", "1h"])
        }
        defer { server.terminate(); server.waitUntilExit() }
        let names = ["web-01", "web-02", "db-01"]
        for name in names {
            try writeSecret(state + "/\(name).secret")
            let enrolled = try agentEnroll(port, name: name, credential: state + "/\(name).secret")
            try #require(enrolled.status == 0, "\(enrolled.output)")
        }
        func run(_ name: String) throws -> (status: Int32, output: String) {
            try agent(["run", "--once", "--collector", "127.0.0.1:\(port)", "--state-dir", state + "/agent-\(name)"])
        }
        for name in ["web-01", "web-02"] { #expect(try run(name).status == 0) }
        let oldCA = try Certificate(pem: StateFile.read(state + "/ca.pem"))
        try StateFile.write(try oldCA.pem(), to: state + "/first-ca.pem", mode: 0o644)
        let straggler = try heldIdentity(state + "/agent-db-01")

        let rotated = try portwarden(["ca", "rotate", "--state-dir", state])
        #expect(rotated.status == 0, "\(rotated.output)")
        let newCA = try Certificate(pem: StateFile.read(state + "/ca.pem"))
        #expect(newCA.fingerprint != oldCA.fingerprint && FileManager.default.fileExists(atPath: state + "/ca-old.key"))
        #expect(try portwarden(["ca", "rotate", "--state-dir", state]).status != 0, "one rotation at a time")
        try restart()

        // The overlap: old certificates still report and are told to renew; agents do.
        let told = try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: straggler.context, timeout: 5)
            .post("/v1/reports", body: Self.report("db-01", sequence: 1))
        #expect(told.status == 200 && told.headers["x-portwarden-renew"] == "ca-rotated", "\(told.status) \(told.headers)")
        #expect(told.headers["x-portwarden-ca"] == Certificate.bundleDigest([newCA, oldCA]), "the bundle to trust now: both")
        // A certificate minted with the old CA's key (which may be why it is retired), never
        // issued here: refused at the handshake. One from the current CA that the store does
        // not know (a restored database) is still taken.
        let oldAuthority = CertificateAuthority(certificate: oldCA, key: try PrivateKey.read(from: state + "/ca-old.key"))
        let newAuthority = CertificateAuthority(certificate: newCA, key: try PrivateKey.read(from: state + "/ca.key"))
        for (authority, taken) in [(oldAuthority, false), (newAuthority, true)] {
            let key = try PrivateKey.generate()
            let minted = try authority.issue(CertificateRequest(key: key, commonName: "web-01"), commonName: "web-01", usage: .client)
            let context = try TLSContext.client(trusting: [oldCA, newCA], certificate: minted, key: key)
            let answer = try? CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 5)
                .post("/v1/reports", body: Self.report("web-01", sequence: 999))
            // Taken: answered (here 400, an old collected_at for web-01); refused: the connection closed.
            #expect((answer != nil) == taken, "minted by the \(taken ? "current" : "retiring") CA: \(String(describing: answer?.status))")
        }
        let handed = try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: straggler.context, timeout: 5)
            .get("/v1/ca")
        let handedCAs = Set(try Certificate.all(pem: handed.text).map(\.fingerprint))
        #expect(handed.status == 200 && handedCAs == [oldCA.fingerprint, newCA.fingerprint], "the bundle, to an enrolled host")
        let anonymous = try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: TLSContext.client(trust: oldCA),
                                                timeout: 5).get("/v1/ca")
        #expect(anonymous.status == 401, "the bundle is for enrolled hosts: \(anonymous.status)")
        let metrics = try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: straggler.context, timeout: 5)
            .get("/metrics").text
        #expect(metrics.contains("portwarden_host_certificates_expiring 3\n"), "three hosts, an hour each: \(metrics)")
        for name in ["server", "ca", "ca_old"] {
            #expect(metrics.contains("portwarden_certificate_expiry_timestamp_seconds{certificate=\"\(name)\"} "), "\(metrics)")
        }
        for name in ["web-01", "web-02"] {
            let ran = try run(name)
            #expect(ran.status == 0 && ran.output.contains("renewed"), "\(ran.output)")
            let held = try Certificate(pem: StateFile.read(state + "/agent-\(name)/host.pem"))
            #expect(held.isSigned(by: newCA), "\(name) renewed onto the new CA")
            let bundle = try Certificate.all(pem: StateFile.read(state + "/agent-\(name)/ca.pem")).map(\.fingerprint)
            #expect(Set(bundle) == [oldCA.fingerprint, newCA.fingerprint], "\(name) was handed both CAs")
            // Its next report uses the new certificate, and is not told again.
            let again = try run(name)
            #expect(again.status == 0 && !again.output.contains("renewed"), "\(again.output)")
        }

        let refused = try portwarden(["ca", "retire-old", "--state-dir", state])
        #expect(refused.status == 1 && refused.output.contains("db-01"), "\(refused.output)")
        #expect(!refused.output.contains("web-01") && !refused.output.contains("web-02"), "\(refused.output)")
        #expect(FileManager.default.fileExists(atPath: state + "/ca-old.pem"), "nothing retired")
        let retired = try portwarden(["ca", "retire-old", "--state-dir", state, "--force"])
        #expect(retired.status == 0, "\(retired.output)")
        #expect(!FileManager.default.fileExists(atPath: state + "/ca-old.key"))
        #expect(try Certificate(pem: StateFile.read(state + "/server.pem")).isSigned(by: newCA))
        // Who rotated and who cut hosts off, in the audit like every other change to identities.
        let audit = try portwarden(["audit", "--state-dir", state, "--since", "1h"])
        #expect(audit.output.contains("ca.rotated") && audit.output.contains("ca.old_retired")
                && audit.output.contains("--force cut off db-01"), "\(audit.output)")
        try restart()

        for name in ["web-01", "web-02"] {
            let ran = try run(name)
            #expect(ran.status == 0, "\(name) reports after the old CA is gone: \(ran.output)")
            // Told the bundle is the new CA alone, it dropped the old one: a leaked old key
            // can no longer pose as the collector to it.
            let bundle = try Certificate.all(pem: StateFile.read(state + "/agent-\(name)/ca.pem")).map(\.fingerprint)
            #expect(bundle == [newCA.fingerprint], "\(name) trusts the new CA alone: \(ran.output)")
        }
        #expect(reportOnce(port, straggler.context, "db-01", sequence: 2).status == nil, "the host that never renewed is refused")
        // Configuration management still passing the first CA as --ca-file: web-01 is enrolled already.
        try "stale\n".write(toFile: state + "/stale.secret", atomically: true, encoding: .utf8)
        let again = try agent(["enroll", "--collector", "127.0.0.1:\(port)", "--secret-file", state + "/stale.secret",
                               "--ca-file", state + "/first-ca.pem", "--state-dir", state + "/agent-web-01", "--name", "web-01"])
        #expect(again.status == 0 && again.output.contains("already enrolled"), "\(again.output)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        for name in ["web-01", "web-02"] {
            #expect(try database.receiptRuns(host: name).map(\.reports).reduce(0, +) == 4, "\(name)")
        }
    }

    /// A ca.key that is not ca.pem's: serve, `ca server-cert` and `enroll sign` refuse,
    /// saying what to do, rather than sign certificates that do not verify.
    @Test func aCAKeyThatIsNotTheCertificatesIsRefusedEverywhereItWouldSign() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try PrivateKey.generate().write(to: state + "/ca.key")
        let csr = state + "/web-01.csr"
        try StateFile.write(try CertificateRequest(key: PrivateKey.generate(), commonName: "web-01").pem(), to: csr, mode: 0o644)
        let port = try unusedPort()
        for arguments in [["serve", "--listen", "127.0.0.1:\(port)", "--no-policy"], ["ca", "server-cert"], ["enroll", "sign", csr]] {
            // Bounded: a serve that does not refuse would run on.
            let refused = try execute("/usr/bin/timeout", ["10", Self.portwarden] + arguments + ["--state-dir", state])
            #expect(refused.status != 0 && refused.output.contains("is not the one of") && refused.output.contains("backup"),
                    "\(arguments): \(refused.status) \(refused.output)")
        }
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        #expect(try database.certificates(host: nil).isEmpty, "nothing signed, the name not held")
    }
}
