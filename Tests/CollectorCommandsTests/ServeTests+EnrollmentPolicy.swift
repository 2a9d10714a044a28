import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// What a secret-holder tried against `portwarden serve` after the first round of fixes:
/// names a waiver or a rule exempts, filling a held name's waiting list from one address,
/// and keys the collector's own TLS would refuse.
extension ServeTests {
    /// The shipped policy, plus a waiver for `lab-*` and a rule that spares `build-*` by name.
    func policiesSinglingOutNames() throws -> String {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies").path
        let directory = state + "/policies"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in ["catalog.yaml", "inventory.yaml", "legacy-ports.yaml"] {
            try FileManager.default.copyItem(atPath: shipped + "/" + file, toPath: directory + "/" + file)
        }
        try """
            waivers:
              - rule: legacy-port-exposed
                host: "lab-*"
                owner: lab@example.com
                reason: the lab's PXE rig
                expires: 2099-12-31
            """.write(toFile: directory + "/waivers.yaml", atomically: true, encoding: .utf8)
        try """
            rules:
              - id: no-tftp
                why: TFTP hands out files to anyone who asks.
                severity: high
                when: port 69
                unless: host.name ~ "build-*"
            """.write(toFile: directory + "/tftp.yaml", atomically: true, encoding: .utf8)
        return directory
    }

    @Test func aWaiverOrANameTestExemptsNoNameAHostPicksWithoutAnOperator() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let secret = try StateFile.read(state + "/agent.secret").trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try unusedPort()
        let server = try serve(port: port, ["--policies", try policiesSinglingOutNames()])
        defer { server.terminate(); server.waitUntilExit() }

        for (name, why) in [("lab-rogue", "waiver of legacy-port-exposed for 'lab-*' (\(state)/policies/waivers.yaml:2) matches this name"),
                            ("build-9", "rule no-tftp (\(state)/policies/tftp.yaml:2) tests host.name 'build-*', which matches this name")] {
            let (outcome, _) = try attackerEnroll(port, name, secret: secret)
            guard case .success(.pending(let message)) = outcome, message.contains(why) else {
                Issue.record("\(name) was not made to wait, saying why: \(outcome)")
                continue
            }
        }
        guard case (.success(.issued), _) = try attackerEnroll(port, "web-9", secret: secret) else {
            Issue.record("a name the policy does not single out waits")
            return
        }
        let rows = try jsonRows(["enroll", "pending"])
        #expect(rows.compactMap { $0["host"] }.sorted() == ["build-9", "lab-rogue"], "\(rows)")
        #expect(rows.allSatisfy { $0["why"]?.contains("matches this name") == true }, "\(rows)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let names = try database.certificates().map(\.hostName)
        #expect(names == ["web-9"])
        #expect(server.isRunning)
    }

    @Test func oneAddressCannotLockAHeldNamesReinstallOut() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (server, port, secret) = try caSecretAndServe()
        defer { server.terminate(); server.waitUntilExit() }
        try secret.write(toFile: state + "/again.secret", atomically: true, encoding: .utf8)
        try #require(try agentEnroll(port, name: "web-01", credential: state + "/agent.secret").status == 0)
        try #require(try portwarden(["hosts", "revoke", "web-01", "--state-dir", state]).status == 0)

        // Ten fresh keys for web-01 from 127.0.0.2: three wait, the rest are turned away.
        var attackerKeys: [String] = []
        var codes: [Int] = []
        for _ in 0..<10 {
            let request = try CertificateRequest(key: PrivateKey.generate(), commonName: "web-01")
            attackerKeys.append(request.keyFingerprint)
            codes.append(try enrollFrom("127.0.0.2", port, csr: request.pem(), secret: secret).code)
        }
        #expect(codes == Array(repeating: 202, count: 3) + Array(repeating: 429, count: 7), "\(codes)")
        let turnedAway = try enrollFrom("127.0.0.2", port, csr: CertificateRequest(key: PrivateKey.generate(), commonName: "web-01").pem(),
                                        secret: secret)
        #expect(turnedAway.response.lowercased().contains("retry-after: 8"), "until the first request lapses, about a day: \(turnedAway.response)")
        #expect(turnedAway.response.contains("127.0.0.2 asked for this name 3 times"), "\(turnedAway.response)")

        // The real reinstall, from 127.0.0.1, still gets in line and is listed.
        let reinstall = try agentEnroll(port, name: "web-01", credential: state + "/again.secret", agentState: state + "/reinstall")
        #expect(reinstall.status == 75, "\(reinstall.output)")
        let rows = try jsonRows(["enroll", "pending"])
        #expect(rows.filter { $0["address"] == "127.0.0.1" }.count == 1, "\(rows)")
        #expect(rows.filter { $0["address"] == "127.0.0.2" }.count == 3, "\(rows)")

        // Refusing an attacker's key makes no room for its address.
        #expect(try portwarden(["enroll", "refuse", "web-01", "--fingerprint", attackerKeys[0], "--state-dir", state]).status == 0)
        let refill = try enrollFrom("127.0.0.2", port, csr: CertificateRequest(key: PrivateKey.generate(), commonName: "web-01").pem(),
                                    secret: secret)
        #expect(refill.code == 429, "\(refill.response)")
        #expect(server.isRunning)
    }

    @Test func keysTheCollectorsTLSWouldRefuseAreNeverSigned() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (server, port, secret) = try caSecretAndServe()
        defer { server.terminate(); server.waitUntilExit() }
        func csr(_ name: String, _ newKey: [String]) throws -> String {
            let made = try runProcess("/usr/bin/openssl", ["req", "-new"] + newKey + ["-nodes", "-keyout", state + "/\(name).key",
                                                                                     "-subj", "/CN=\(name)", "-out", state + "/\(name).csr"])
            try #require(made.status == 0, "\(made.output)")
            return try StateFile.read(state + "/\(name).csr")
        }
        let ca = try Certificate(pem: StateFile.read(state + "/ca.pem"))
        let newcomer = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try TLSContext.client(trust: ca), timeout: 5)
        for (name, key, said) in [("rsa-small", ["-newkey", "rsa:1024"], "an RSA key of 1024 bits"),
                                  ("koblitz", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"], "an EC key on secp256k1")] {
            let pem = try csr(name, key)
            do {
                let result = try newcomer.enroll(csr: pem, secret: secret)
                Issue.record("\(name) was answered \(result)")
            } catch let refused as EnrollmentRefused {
                #expect(refused.status == 400 && refused.message.contains(said) && refused.message.contains("make an EC P-256 key"),
                        "\(refused)")
            }
            let signed = try portwarden(["enroll", "sign", state + "/\(name).csr", "--state-dir", state])
            #expect(signed.status == 2 && signed.output.contains(said), "\(signed.output)")
        }
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        #expect(try database.certificates().isEmpty)
        let refusals = try auditActions().filter { $0["action"] == "enroll.refused" }
        #expect(refusals.compactMap { $0["host"] } == ["rsa-small", "koblitz"], "the audit names what was asked for: \(refusals)")

        // What the collector does accept, it also takes in the handshake: RSA 2048, signed by an operator, reports.
        _ = try csr("rsa-ok", ["-newkey", "rsa:2048"])
        let signed = try portwarden(["enroll", "sign", state + "/rsa-ok.csr", "--state-dir", state, "--output", state + "/rsa-ok.pem"])
        try #require(signed.status == 0, "\(signed.output)")
        let host = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try TLSContext.client(
            trust: ca, certificate: Certificate(pem: StateFile.read(state + "/rsa-ok.pem")),
            key: PrivateKey(pem: StateFile.read(state + "/rsa-ok.key"))), timeout: 5)
        #expect(try host.post("/v1/reports", body: Self.report("rsa-ok", sequence: 1)).status == 200)
        #expect(server.isRunning)
    }
}
