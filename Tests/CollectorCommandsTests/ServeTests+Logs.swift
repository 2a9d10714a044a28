import CollectorClient
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import StateFiles
import Testing

/// The collector's log as ops reads it (`serve --log-format json`): every line one JSON
/// object with time, level and event; each enrollment, refused or changed report, policy
/// load and operator's revocation once, with its host and reason; unchanged reports only
/// counted.
extension ServeTests {
    @Test func aJSONLogIsOneObjectPerLineAndNamesEachEventOnce() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let secret = try portwarden(["enroll", "secret", "--state-dir", state]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        // The shipped policy, and a test file that does not parse: the policy loads all the same.
        let policies = state + "/policies"
        try FileManager.default.copyItem(atPath: Self.repositoryPolicies, toPath: policies)
        try "cases: [unclosed\n".write(toFile: policies + "/tests/broken.yaml", atomically: true, encoding: .utf8)
        let log = state + "/serve.log", port = try unusedPort()
        let server = try serve(port: port, ["--policies", policies, "--log-format", "json"], log: log)
        var stopped = false
        defer { if !stopped { server.terminate(); server.waitUntilExit() } }

        let ca = try Certificate(pem: StateFile.read(state + "/ca.pem"))
        let newcomer = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try TLSContext.client(trust: ca), timeout: 5)
        let key = try PrivateKey.generate()
        let csr = try CertificateRequest(key: key, commonName: "web-07").pem()
        #expect(throws: (any Error).self, "a wrong secret is refused") { try newcomer.enroll(csr: csr, secret: String(repeating: "0", count: 64)) }
        guard case .issued(let pem, _) = try newcomer.enroll(csr: csr, secret: secret) else { Issue.record("not issued"); return }
        let host = CollectorConnection(host: "127.0.0.1", port: UInt16(port),
                                       context: try TLSContext.client(trust: ca, certificate: Certificate(pem: pem), key: key),
                                       timeout: 5)
        #expect(try host.post("/v1/reports", body: Self.report("web-07", sequence: 1, port: 22)).status == 200)
        #expect(try host.post("/v1/reports", body: Self.report("web-07", sequence: 2, port: 22)).status == 200, "unchanged")
        #expect(try host.post("/v1/reports", body: Self.report("db-09", sequence: 3, port: 22)).status == 403, "another host's")
        let metrics = try host.get("/metrics").text
        #expect(metricSample(metrics, #"portwarden_reports_total{outcome="unchanged"}"#) == 1, "\(metrics)")
        #expect(metricSample(metrics, #"portwarden_policy_tests{result="unreadable"}"#) ?? 0 >= 1, "\(metrics)")
        #expect(metricSample(metrics, #"portwarden_policy_tests{result="passed"}"#) ?? 0 >= 1, "the shipped tests ran: \(metrics)")
        // An operator's revocation, in a process of its own, reaches serve's log from the audit.
        #expect(try portwarden(["hosts", "revoke", "web-07", "--state-dir", state]).status == 0)
        try waitForLine(in: log, containing: #""event":"certificate_revoked""#, count: 1)
        server.terminate()
        server.waitUntilExit()
        stopped = true

        let text = try String(contentsOfFile: log, encoding: .utf8)
        var events: [[String: String]] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            let event = try #require(object, "not a JSON object of strings: \(line)")
            #expect(event["time"].map { $0.hasSuffix("Z") && $0.count >= 20 } == true, "\(line)")
            #expect(["info", "notice", "warning", "error", "critical"].contains(event["level"] ?? ""), "\(line)")
            #expect(!(event["event"] ?? "").isEmpty && event["msg"] != nil, "\(line)")
            events.append(event)
        }
        #expect(text.hasSuffix("\n"))
        func named(_ name: String) -> [[String: String]] { events.filter { $0["event"] == name } }
        #expect(named("listening").count == 1 && named("stopping").count == 1)
        let loaded = try #require(named("policy_loaded").first, "\(text)")
        #expect(named("policy_loaded").count == 1 && loaded["tests_unreadable"] != "0" && loaded["version"]?.count == 12, "\(loaded)")
        #expect(named("policy_tests_failed").first?["reason"]?.contains("tests/broken.yaml") == true, "\(text)")
        #expect(named("enrollment_refused").count == 1 && named("enrollment_refused").first?["host"] == "web-07", "\(text)")
        #expect(named("enrolled").count == 1 && named("enrolled").first?["host"] == "web-07", "\(text)")
        #expect(named("report_changed").count == 1 && named("report_changed").first?["host"] == "web-07", "\(text)")
        #expect(named("report_changed").first?["sequence"] == "1", "a number, not Swift's Optional(1): \(text)")
        #expect(named("report_unchanged").isEmpty, "unchanged reports are logged at debug only: \(text)")
        let refused = named("report_refused")
        #expect(refused.count == 1 && refused.first?["host"] == "web-07" && refused.first?["reason"] == "other_host", "\(text)")
        let revoked = named("certificate_revoked")
        #expect(revoked.count == 1 && revoked.first?["host"] == "web-07" && revoked.first?["by"]?.hasPrefix("operator") == true, "\(text)")
        #expect(events.allSatisfy { $0["event"] != "message" }, "every line of serve's names its event: \(text)")
    }

    /// `--log-level debug` adds the unchanged report; a second collector on the same
    /// address is told what to do, not NIO's bind(2) and an errno.
    @Test func debugLogsUnchangedReportsAndABusyAddressIsSaidPlainly() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let context = try enroll("web-01")
        let log = state + "/serve.log", port = try unusedPort()
        let server = try serve(port: port, ["--log-level", "debug"], log: log)
        defer { server.terminate(); server.waitUntilExit() }
        let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 5)
        for sequence in 1...2 as ClosedRange<UInt64> {
            #expect(try connection.post("/v1/reports", body: Self.report("web-01", sequence: sequence, port: 22)).status == 200)
        }
        try waitForLine(in: log, containing: "event=report_unchanged", count: 1)

        let second = try portwarden(["serve", "--state-dir", state, "--listen", "127.0.0.1:\(port)", "--no-policy",
                                     "--log-format", "json"])
        #expect(second.status == 75, "an address in use may free up: try again later (systemd restarts the unit)")
        #expect(second.output.contains("cannot listen on 127.0.0.1:\(port): address already in use; is another portwarden serve running?"),
                "\(second.output)")
        #expect(!second.output.contains("bind(") && !second.output.contains("errno"), "\(second.output)")
        // Under --log-format json the reason it stopped is a JSON event too, so a log shipper parses it.
        let events = second.output.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(events.allSatisfy { $0 != nil }, "every line JSON: \(second.output)")
        let failed = events.compactMap { $0 }.first { $0["event"] as? String == "command_failed" }
        #expect(failed?["exit_status"] as? String == "75" && (failed?["msg"] as? String)?.contains("address already in use") == true,
                "\(second.output)")
    }

    /// SQLite's "unable to open database file" (and "file is not a database") becomes which
    /// file, why, and what to do.
    @Test func aDatabaseInAMissingDirectoryIsNamedWithWhatToDo() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let missing = state + "/no/such/dir/history.sqlite"
        let ran = try portwarden(["serve", "--state-dir", state, "--database", missing, "--listen", "127.0.0.1:0", "--no-policy"])
        #expect(ran.status == 3, "could not do the job: \(ran.output)")
        #expect(ran.output.contains("cannot open the database \(missing): its directory \(state)/no/such/dir does not exist"),
                "\(ran.output)")
        #expect(!ran.output.contains("SQLite error"), "\(ran.output)")
        let junk = state + "/junk.sqlite"
        try String(repeating: "not a database ", count: 20).write(toFile: junk, atomically: true, encoding: .utf8)
        let notADatabase = try portwarden(["serve", "--state-dir", state, "--database", junk, "--listen", "127.0.0.1:0", "--no-policy"])
        #expect(notADatabase.status == 3 && notADatabase.output.contains("cannot open the database \(junk): it is not a SQLite database"),
                "\(notADatabase.output)")
    }
}
