import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// Enrollment against `portwarden serve` as an operator and an attacker holding the
/// secret meet it: the agent, the `enroll` commands, and `portwarden audit`.
extension ServeTests {
    /// `portwarden-agent enroll` into its own state directory, with a secret or token file.
    func agentEnroll(_ port: Int, name: String, credential: String, token: Bool = false, agentState: String? = nil)
        throws -> (status: Int32, output: String)
    {
        try agent(["enroll", "--collector", "127.0.0.1:\(port)", token ? "--token-file" : "--secret-file", credential,
                   "--ca-file", state + "/ca.pem", "--state-dir", agentState ?? state + "/agent-\(name)", "--name", name])
    }

    /// An enrollment straight over the wire, with a fresh key (or `key`): what an attacker sends.
    func attackerEnroll(_ port: Int, _ name: String, secret: String, key: PrivateKey? = nil)
        throws -> (Result<EnrollmentResult, EnrollmentRefused>, String)
    {
        let ca = try Certificate(pem: StateFile.read(state + "/ca.pem"))
        let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try TLSContext.client(trust: ca), timeout: 5)
        let request = try CertificateRequest(key: key ?? PrivateKey.generate(), commonName: name)
        do { return (.success(try connection.enroll(csr: request.pem(), secret: secret)), request.keyFingerprint) } catch let refused as EnrollmentRefused {
            return (.failure(refused), request.keyFingerprint)
        }
    }

    /// `POST /v1/enroll` with `csr` and `secret` from the loopback address `source`
    /// (curl, bound to it): the status, and the whole answer with its headers.
    func enrollFrom(_ source: String, _ port: Int, csr: String, secret: String) throws -> (code: Int, response: String) {
        let body = state + "/body-\(UUID().uuidString)"
        try JSONSerialization.data(withJSONObject: ["csr": csr, "secret": secret]).write(to: URL(fileURLWithPath: body))
        defer { try? FileManager.default.removeItem(atPath: body) }
        let output = try runProcess("/usr/bin/curl", ["-s", "-i", "-w", "\n%{http_code}", "--interface", source,
                                                      "--cacert", state + "/ca.pem", "-H", "Content-Type: application/json",
                                                      "--data-binary", "@" + body, "https://127.0.0.1:\(port)/v1/enroll"]).output
        return (Int(output.split(separator: "\n").last ?? "") ?? 0, output)
    }

    /// A fleet CA, the enrollment secret (also in agent.secret, for the agent) and `serve`.
    func caSecretAndServe() throws -> (server: Process, port: Int, secret: String) {
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let port = try unusedPort()
        try writeSecret()
        let secret = try StateFile.read(state + "/agent.secret").trimmingCharacters(in: .whitespacesAndNewlines)
        return (try serve(port: port), port, secret)
    }

    /// A listing command's rows (`--format json`), their text fields: `["enroll", "pending"]`.
    func jsonRows(_ command: [String], _ name: String = "requests") throws -> [[String: String]] {
        let listed = try portwarden(command + ["--state-dir", state, "--format", "json"])
        try #require(listed.status == 0, "\(listed.output)")
        let rows = try listingRows(listed.output, name)
        return rows.map { $0.compactMapValues { $0 as? String } }
    }

    func auditActions() throws -> [[String: String]] { try jsonRows(["audit"], "entries") }

    @Test func theOperatorAnswersWaitingKeysByFingerprintAndTheAuditSaysWho() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (server, port, secret) = try caSecretAndServe()
        defer { server.terminate(); server.waitUntilExit() }

        let first = try agentEnroll(port, name: "web-02", credential: state + "/agent.secret")
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("deleted \(state)/agent.secret"), "\(first.output)")
        #expect(!FileManager.default.fileExists(atPath: state + "/agent.secret"), "the agent deletes its secret file")

        let revoked = try portwarden(["hosts", "revoke", "WEB-02.", "--state-dir", state])
        #expect(revoked.status == 0 && revoked.output.contains("of web-02"), "\(revoked.output)")

        // The reinstall, and an attacker, both ask for web-02 with the secret: both wait.
        try secret.write(toFile: state + "/again.secret", atomically: true, encoding: .utf8)
        let reinstall = try agentEnroll(port, name: "web-02", credential: state + "/again.secret", agentState: state + "/reinstall")
        #expect(reinstall.status == 75, "\(reinstall.output)")
        let fingerprint = try #require(reinstall.output.split(separator: "\n").first { $0.hasPrefix("key SHA-256 ") }?.split(separator: " ").last)
        #expect(FileManager.default.fileExists(atPath: state + "/again.secret"), "kept while waiting")
        let (attacker, attackerKey) = try attackerEnroll(port, "web-02", secret: secret)
        guard case .success(.pending) = attacker else { Issue.record("the attacker was not made to wait: \(attacker)"); return }

        let pending = try portwarden(["enroll", "pending", "--state-dir", state, "--format", "json"])
        let rows = try listingRows(pending.output, "requests")
        #expect(Set(rows.compactMap { $0["fingerprint"] as? String }) == [String(fingerprint), attackerKey], "\(pending.output)")
        #expect(rows.allSatisfy { $0["address"] as? String == "127.0.0.1" && $0["host"] as? String == "web-02" })

        let unsure = try portwarden(["enroll", "approve", "web-02", "--state-dir", state])
        #expect(unsure.status == 2 && unsure.output.contains("pass --fingerprint") && unsure.output.contains(attackerKey), "\(unsure.output)")
        let approved = try portwarden(["enroll", "approve", "Web-02", "--fingerprint", String(fingerprint.prefix(12)), "--state-dir", state])
        #expect(approved.status == 0, "\(approved.output)")
        let collected = try agentEnroll(port, name: "web-02", credential: state + "/again.secret", agentState: state + "/reinstall")
        #expect(collected.status == 0, "\(collected.output)")
        #expect(!FileManager.default.fileExists(atPath: state + "/again.secret"))
        guard case (.success(.pending), _) = try attackerEnroll(port, "web-02", secret: secret) else {
            Issue.record("the attacker's key was issued")
            return
        }
        let refused = try portwarden(["enroll", "refuse", "web-02", "--fingerprint", attackerKey, "--state-dir", state])
        #expect(refused.status == 0, "\(refused.output)")

        let audit = try auditActions()
        let web = audit.filter { $0["host"] == "web-02" }.map { $0["action"] ?? "" }
        #expect(web == ["enroll.issued", "certificate.revoked", "enroll.pending", "enroll.pending", "request.approved",
                        "enroll.issued", "request.superseded", "enroll.pending", "request.refused"], "\(audit)")
        #expect(audit.first { $0["action"] == "certificate.revoked" }?["actor"]?.hasPrefix("operator ") == true)
        #expect(audit.filter { $0["action"]?.hasPrefix("enroll.") == true }.allSatisfy { $0["address"] == "127.0.0.1" && $0["actor"] == "secret #1" })
    }

    @Test func secretsRotateWhileServeRunsAndTokensAndTaggedNamesAreScoped() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let port = try unusedPort()
        let policies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies").path
        try writeSecret(state + "/old.secret")
        let old = try StateFile.read(state + "/old.secret").trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try serve(port: port, ["--policies", policies])
        defer { server.terminate(); server.waitUntilExit() }

        try writeSecret(state + "/new.secret")
        let new = try StateFile.read(state + "/new.secret")
        guard case (.failure(let refusal), _) = try attackerEnroll(port, "db-01", secret: old) else {
            Issue.record("the replaced secret still enrolls")
            return
        }
        #expect(refusal.status == 403 && refusal.message.contains("replaced"), "\(refusal)")
        #expect(try agentEnroll(port, name: "db-01", credential: state + "/new.secret").status == 0)

        // A token for web-* once: not for db-*, then used up; revoked tokens enroll nobody.
        let made = try portwarden(["enroll", "token", "create", "--names", "web-*", "--uses", "1", "--expires", "1h", "--state-dir", state])
        try #require(made.status == 0, "\(made.output)")
        let token = try #require(made.output.split(separator: "\n").first { $0.hasPrefix("pwt_") })
        for file in ["t1", "t2", "t3"] { try String(token).write(toFile: state + "/" + file, atomically: true, encoding: .utf8) }
        let outside = try agentEnroll(port, name: "db-02", credential: state + "/t1", token: true)
        #expect(outside.status == 3 && outside.output.contains("only names matching web-*"), "\(outside.output)")
        #expect(try agentEnroll(port, name: "web-05", credential: state + "/t1", token: true).status == 0)
        let usedUp = try agentEnroll(port, name: "web-06", credential: state + "/t2", token: true)
        #expect(FileManager.default.fileExists(atPath: state + "/t2"), "a refused agent keeps its token file")
        #expect(usedUp.status == 3 && usedUp.output.contains("used 1 time"), "\(usedUp.output)")
        #expect(try portwarden(["enroll", "token", "list", "--state-dir", state]).output.contains("used up"))
        let id = try #require(made.output.firstMatch(of: /token #(\d+):/)?.1)
        #expect(try portwarden(["enroll", "token", "list", "--state-dir", state, "--format", "json"]).output.contains("\"id\" : \(id)"))
        #expect(try portwarden(["enroll", "token", "revoke", String(id), "--state-dir", state]).status == 0)
        let revoked = try agentEnroll(port, name: "web-06", credential: state + "/t3", token: true)
        #expect(revoked.output.contains("revoked"), "\(revoked.output)")

        // The shipped inventory tags vms-* OpenVMS: a self-chosen vms-anything waits for an operator.
        try new.write(toFile: state + "/vms.secret", atomically: true, encoding: .utf8)
        let vms = try agentEnroll(port, name: "vms-anything", credential: state + "/vms.secret")
        #expect(vms.status == 75 && vms.output.contains("OpenVMS"), "\(vms.output)")
        let fingerprint = try #require(vms.output.split(separator: "\n").first { $0.hasPrefix("key SHA-256 ") }?.split(separator: " ").last)
        #expect(try portwarden(["enroll", "approve", "vms-anything", "--fingerprint", String(fingerprint.prefix(8)), "--state-dir", state]).status == 0)
        #expect(try agentEnroll(port, name: "vms-anything", credential: state + "/vms.secret").status == 0)

        let actions = try auditActions().map { $0["action"] ?? "" }
        for action in ["secret.rotated", "token.created", "token.revoked", "enroll.refused", "request.approved"] {
            #expect(actions.contains(action), "\(action) in \(actions)")
        }
    }

    @Test func aFloodFromOneAddressIsLimitedWhileAnotherEnrollsAndExpiredRequestsStayUnapproved() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let port = try unusedPort()
        try writeSecret()
        let secret = try StateFile.read(state + "/agent.secret").trimmingCharacters(in: .whitespacesAndNewlines)
        let config = state + "/collector.yaml"
        try """
            state_dir: \(state)
            enrollment:
              request_ttl: 1s
              per_minute: 6
              burst: 4
              failures_per_minute: 1
              failure_burst: 2
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let server = try serve(port: port, ["--config", config])
        defer { server.terminate(); server.waitUntilExit() }

        // From 127.0.0.2: curl, bound to that source address.
        let csr = try CertificateRequest(key: PrivateKey.generate(), commonName: "flood-1").pem()
        let wrong = try (0..<4).map { _ in try enrollFrom("127.0.0.2", port, csr: csr, secret: "guess").code }
        #expect(wrong == [403, 403, 429, 429], "wrong secrets: two refused, then limited: \(wrong)")
        let right = try (0..<4).map { _ in try enrollFrom("127.0.0.2", port, csr: csr, secret: secret).code }
        #expect(right.filter { $0 == 429 }.count >= 2, "\(right)")

        // 127.0.0.1 is untouched by 127.0.0.2's flood.
        #expect(try agentEnroll(port, name: "good-1", credential: state + "/agent.secret").status == 0)
        let audit = try auditActions()
        #expect(audit.filter { $0["address"] == "127.0.0.2" && $0["action"] == "enroll.refused" }.count == 2,
                "refusals past the limit are not written: \(audit)")

        // A request lapses after request_ttl; the operator cannot approve it then.
        let (held, key) = try attackerEnroll(port, "good-1", secret: secret)
        guard case .success(.pending) = held else { Issue.record("\(held)"); return }
        usleep(1_500_000)
        let late = try portwarden(["enroll", "approve", "good-1", "--fingerprint", key, "--config", config])
        #expect(late.status == 2 && late.output.contains("expired"), "\(late.output)")
        #expect(try portwarden(["enroll", "pending", "--config", config]).output.split(separator: "\n").count == 1, "only the header")
    }

    /// A configuration tool runs `enroll` on every pass: a host that holds a valid
    /// certificate for the name is left as it is (no request, no operator), and the
    /// secret file is deleted again; `--force` asks, and waits for an operator.
    @Test func enrollingAnEnrolledHostAgainChangesNothing() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (server, port, secret) = try caSecretAndServe()
        defer { server.terminate(); server.waitUntilExit() }
        let agentState = state + "/agent-idem"
        func secretFile() throws -> String {
            try StateFile.write(secret + "\n", to: state + "/again.secret", mode: 0o600)
            return state + "/again.secret"
        }
        #expect(try agentEnroll(port, name: "idem-1", credential: secretFile(), agentState: agentState).status == 0)
        let held = try StateFile.read(agentState + "/host.pem")

        let repeated = try agentEnroll(port, name: "idem-1", credential: secretFile(), agentState: agentState)
        #expect(repeated.status == 0 && repeated.output.contains("already enrolled as idem-1 until 20"), "\(repeated.output)")
        #expect(!FileManager.default.fileExists(atPath: state + "/again.secret"), "the secret is deleted again")
        #expect(try StateFile.read(agentState + "/host.pem") == held)
        #expect(try auditActions().filter { $0["host"] == "idem-1" }.map { $0["action"] ?? "" } == ["enroll.issued"])

        // Another name (a configuration run without --name on a renamed host) is not a
        // new identity unasked; --force enrolls under it.
        let renamed = try agentEnroll(port, name: "idem-2", credential: secretFile(), agentState: agentState)
        #expect(renamed.status == 2 && renamed.output.contains("this host is enrolled as idem-1"), "\(renamed.output)")
        #expect(try StateFile.read(agentState + "/host.pem") == held)
        func forced(_ name: String) throws -> (status: Int32, output: String) {
            try agent(["enroll", "--collector", "127.0.0.1:\(port)", "--secret-file", secretFile(), "--ca-file", state + "/ca.pem",
                       "--state-dir", agentState, "--name", name, "--force"])
        }
        let moved = try forced("idem-2")
        #expect(moved.status == 0 && moved.output.contains("enrolled as idem-2"), "\(moved.output)")
        let again = try forced("idem-2")
        #expect(again.status == 75 && again.output.contains("needs an operator"), "the name is held now: \(again.output)")
    }

    /// An older release kept `enroll.secret` in clear in the state directory: `serve`
    /// moves its digest into the database and removes the file; hosts holding it enroll.
    @Test func anOlderReleasesSecretFileBecomesADigest() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try StateFile.write("an old secret\n", to: state + "/enroll.secret", mode: 0o600)
        let port = try unusedPort()
        let server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        #expect(!FileManager.default.fileExists(atPath: state + "/enroll.secret"))
        guard case (.success(.issued), _) = try attackerEnroll(port, "old-1", secret: "an old secret") else {
            Issue.record("the older release's secret no longer enrolls")
            return
        }
        #expect(try auditActions().first { $0["action"] == "secret.rotated" }?["actor"]?.hasPrefix("upgrade: ") == true)
    }
}
