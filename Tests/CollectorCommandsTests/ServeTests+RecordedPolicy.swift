import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import Policy
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Reports read the policy `serve` recorded in the database, never a directory: cron
/// runs from root's home, where no Policies/ is.
extension ServeTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// `portwarden ARGS` run from /.
    func fromRoot(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runProcess(Self.portwarden, arguments + ["--state-dir", state], in: "/")
    }

    /// A report's JSON, run from /.
    func jsonReport(_ arguments: [String]) throws -> [String: Any] {
        let run = try fromRoot(arguments + ["--format", "json"])
        try #require(run.status == 0, "\(run.output)")
        return try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any], "\(run.output)")
    }

    /// Polls the history until `check` holds (serve writes it meanwhile).
    func waitForHistory(_ what: String, _ check: (any HistoryStore) throws -> Bool) throws {
        let history = try HistoryStores.existing(state + "/portwarden.sqlite")
        for _ in 0..<100 where try !check(history) { usleep(50_000) }
        try #require(try check(history), "\(what)")
    }

    @Test func aReportRunFromRootShowsTheRecordedRuleTextsAndTags() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let policies = state + "/policies", rules = state + "/policies/legacy-ports.yaml"
        try FileManager.default.copyItem(atPath: Self.repository + "/Policies", toPath: policies)
        let first = try #require(try PolicySet.load(directory: policies, today: Day(Date())).policy)
        let contexts = ["vms-01": try enroll("vms-01"), "web-01": try enroll("web-01")]
        let port = try unusedPort()
        let server = try serve(port: port, ["--policies", policies])
        defer { if server.isRunning { server.terminate(); server.waitUntilExit() } }
        func post(_ host: String, _ sequence: UInt64, _ ports: [UInt16]) throws {
            let response = try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: contexts[host]!, timeout: 10)
                .post("/v1/reports", body: Self.body(Self.snapshot(host, sequence, ports.map { Self.listener($0) })))
            try #require(response.status == 200, "\(response.text)")
        }
        try post("vms-01", 1, [557, 55])  // 557 is what an OpenVMS host listens on; 55 is a finding anywhere
        try post("web-01", 1, [557])

        // isi-gl reworded: web-01's 55 opens under the new version, vms-01's stays under the first.
        try String(contentsOfFile: rules, encoding: .utf8)
            .replacingOccurrences(of: "Nothing alive speaks ISI-GL", with: "Reworded, nothing speaks ISI-GL")
            .write(toFile: rules, atomically: true, encoding: .utf8)
        let second = try #require(try PolicySet.load(directory: policies, today: Day(Date())).policy)
        kill(server.processIdentifier, SIGHUP)
        try waitForHistory("the reworded policy recorded") { try $0.policyVersion(digest: second.digest) != nil }
        try post("web-01", 2, [557, 55])
        server.terminate()
        server.waitUntilExit()
        try FileManager.default.removeItem(atPath: policies)

        let original = try #require(first.rules.first { $0.id == "isi-gl" }?.why)
        let reworded = try #require(second.rules.first { $0.id == "isi-gl" }?.why)
        let vms = try jsonReport(["report", "host", "vms-01"])
        #expect(vms["tags"] as? [String] == ["OpenVMS"], "the recorded inventory tags it: \(vms)")
        let vmsFindings = try #require(vms["findings"] as? [[String: Any]])
        #expect(vmsFindings.map { $0["rule"] as? String } == ["isi-gl"], "557 is no finding on an OpenVMS host")
        #expect(vmsFindings.first?["why"] as? String == original)
        #expect(vmsFindings.first?["policy_version"] as? String == first.digest)

        let web = try jsonReport(["report", "host", "web-01"])
        #expect(web["tags"] as? [String] == [])
        let webFindings = try #require(web["findings"] as? [[String: Any]]).sorted { "\($0["rule"]!)" < "\($1["rule"]!)" }
        #expect(webFindings.map { $0["rule"] as? String } == ["isi-gl", "openvms-sysipc-off-openvms"])
        #expect(webFindings.map { $0["why"] as? String } == [reworded, first.rules.first { $0.id == "openvms-sysipc-off-openvms" }?.why])
        #expect(webFindings.map { $0["policy_version"] as? String } == [second.digest, first.digest])

        let table = try fromRoot(["report", "host", "vms-01"])
        #expect(table.status == 0 && table.output.contains("Tags: OpenVMS") && table.output.contains(String(original.prefix(40)))
                && table.output.contains("Policy version: \(first.digest.prefix(12)) (1 finding)"), "\(table.output)")

        let trend = try jsonReport(["report", "trend", "--since", "1d"])
        let open = try #require(trend["open_findings"] as? [[String: Any]])
        let why = Dictionary(open.map { ("\($0["host"]!) \($0["rule"]!)", $0["why"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
        #expect(why == ["vms-01 isi-gl": original, "web-01 isi-gl": reworded,
                        "web-01 openvms-sysipc-off-openvms": first.rules.first { $0.id == "openvms-sysipc-off-openvms" }!.why], "\(open)")
        #expect((trend["unevaluated"] as? [Any])?.isEmpty == true, "evaluated throughout")
        let byTag = try fromRoot(["report", "trend", "--since", "1d", "--by", "tag", "--format", "csv"])
        #expect(byTag.status == 0 && byTag.output.contains("tag:OpenVMS") && byTag.output.contains("tag:(untagged)"), "\(byTag.output)")
    }

    /// A stretch served with --no-policy is recorded, and a report over it says so first.
    @Test func aStretchServedWithoutAPolicyIsSaidInTheReportsHeader() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let context = try enroll("web-01")
        let port = try unusedPort()
        for (sequence, arguments) in [(UInt64(1), [String]()), (2, ["--policies", Self.repository + "/Policies"])] {
            let server = try serve(port: port, arguments)  // --no-policy, then the shipped policy
            let response = try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 10)
                .post("/v1/reports", body: Self.body(Self.snapshot("web-01", sequence, [Self.listener(557)])))
            #expect(response.status == 200, "\(response.text)")
            usleep(1_100_000)  // times are whole seconds: the stretch under no policy lasts at least one
            server.terminate()
            server.waitUntilExit()
        }
        let shipped = try #require(try PolicySet.load(directory: Self.repository + "/Policies", today: Day(Date())).policy)
        let history = try HistoryStores.existing(state + "/portwarden.sqlite")
        #expect(try history.policyPeriods(since: 0, until: .max).map(\.version) == [nil, shipped.digest])

        let trend = try fromRoot(["report", "trend", "--since", "1d"])
        #expect(trend.status == 0 && trend.output.contains("NOT EVALUATED: ") && trend.output.contains("ran under no policy"),
                "\(trend.output)")
        let json = try jsonReport(["report", "host", "web-01"])
        let unevaluated = try #require(json["unevaluated"] as? [[String: Any]])
        #expect(unevaluated.count == 1 && unevaluated.first?["until"] is String, "\(json)")
        let export = try fromRoot(["export", "findings", "--format", "json"])
        #expect(export.status == 0 && export.output.contains("\"unevaluated\""), "\(export.output)")
    }
}
