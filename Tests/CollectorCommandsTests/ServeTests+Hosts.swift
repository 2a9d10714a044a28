import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// `portwarden hosts …` against a running collector: forgetting a host, the list's
/// formats and columns.
extension ServeTests {
    @Test func hostsForgetRetiresAHostSaysWhatItDidAndItsNameWaitsForApproval() throws {
        try withCollector(["web-01", "db-01"], ["--policies", Self.policies]) { port, post, _ in
            for host in ["web-01", "db-01"] {
                let stored = try post(host, Self.body(Self.snapshot(host, 1, [Self.listener(22), Self.listener(557)])))
                try #require(stored.status == 200, "\(stored.text)")
            }
            let unknown = try portwarden(["hosts", "forget", "nobody", "--state-dir", state])
            #expect(unknown.status == 2 && unknown.output.contains("hosts list --all"), "\(unknown.output)")

            let forgot = try portwarden(["hosts", "forget", "WEB-01.", "--reason", "decommissioned", "--state-dir", state])
            #expect(forgot.status == 0, "\(forgot.output)")
            #expect(forgot.output.contains("retired web-01") && forgot.output.contains("certificates revoked: 1")
                    && forgot.output.contains("2 listener, 1 finding"), "\(forgot.output)")
            #expect(throws: (any Error).self, "its certificate is refused") {
                try post("web-01", Self.body(Self.snapshot("web-01", 2, [])))
            }

            let listed = try portwarden(["hosts", "list", "--state-dir", state])
            #expect(!listed.output.contains("web-01") && listed.output.contains("db-01"), "\(listed.output)")
            let all = try portwarden(["hosts", "list", "--all", "--state-dir", state])
            #expect(all.output.split(separator: "\n").contains { $0.contains("web-01") && $0.contains("retired") }, "\(all.output)")

            let host = try portwarden(["report", "host", "web-01", "--state-dir", state])
            #expect(host.output.contains("retired") && host.output.contains("decommissioned"), "\(host.output)")
            let trend = try portwarden(["report", "trend", "--since", "1d", "--state-dir", state, "--format", "json"])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(trend.output.utf8)) as? [String: Any])
            let coverage = try #require(json["coverage"] as? [String: Any])
            #expect(coverage["hosts"] as? Int == 1 && coverage["reporting"] as? Int == 1, "a retired host leaves coverage: \(coverage)")
            let days = try #require(json["days"] as? [[String: Any]])
            #expect(days.last?["retired_findings"] as? Int == 1 && days.last?["resolved_findings"] as? Int == 0,
                    "a retirement is no fix: \(days)")
            let export = try portwarden(["export", "findings", "--since", "1d", "--format", "json", "--state-dir", state])
            let rows = try #require((try JSONSerialization.jsonObject(with: Data(export.output.utf8)) as? [String: Any])?["rows"]
                as? [[String: Any]], "\(export.output)")
            #expect(rows.map { "\($0["host"]!) \($0["closed_as"]!)" }.sorted() == ["db-01 <null>", "web-01 retired"], "\(rows)")
            let audit = try portwarden(["audit", "--state-dir", state])
            #expect(audit.output.contains("host.retired") && audit.output.contains("decommissioned"), "\(audit.output)")

            // The name held a certificate: a host enrolling under it with the secret waits.
            try writeSecret()
            let secret = try String(contentsOfFile: state + "/agent.secret", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let newcomer = CollectorConnection(host: "127.0.0.1", port: UInt16(port),
                                               context: try TLSContext.client(trust: Certificate(pem: String(contentsOfFile: state + "/ca.pem", encoding: .utf8))),
                                               timeout: 5)
            let result = try newcomer.enroll(csr: try CertificateRequest(key: PrivateKey.generate(), commonName: "web-01").pem(), secret: secret)
            guard case .pending = result else { Issue.record("not waiting for approval: \(result)"); return }
        }
    }

    @Test func tagEditsAreAuditedWithTheOperatorsName() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        for command in [["tag", "vms-01", "OpenVMS", "--create"], ["untag", "vms-01", "openvms"],
                        ["untag", "vms-01", "OPENVMS", "--follow-inventory"], ["untag", "vms-01", "OpenVMS", "--follow-inventory"]] {
            let done = try portwarden(["hosts"] + command + ["--state-dir", state])
            try #require(done.status == 0, "\(command): \(done.output)")
        }
        let audit = try portwarden(["audit", "--state-dir", state, "--format", "json"])
        let entries = try listingRows(audit.output, "entries")
        let tags = entries.filter { ($0["action"] as? String)?.hasPrefix("tag.") == true }
        #expect(tags.map { $0["action"] as? String } == ["tag.assigned", "tag.removed", "tag.forgotten"],
                "a forget with nothing to forget writes nothing: \(tags)")
        #expect(tags.allSatisfy { $0["host"] as? String == "vms-01" && ($0["actor"] as? String)?.hasPrefix("operator ") == true },
                "\(tags)")
    }

    @Test func hostsListSaysEachCertificatesExpiryAndWritesAStableJSONShape() throws {
        try withCollector(["web-01", "db-01"]) { _, post, _ in
            var labelled = Self.snapshot("web-01", 1, [Self.listener(22)])
            labelled.host.labels = ["role": "web"]
            try #require(try post("web-01", Self.body(labelled)).status == 200)
            try #require(try post("db-01", Self.body(Self.snapshot("db-01", 1, []))).status == 200)
            #expect(try portwarden(["hosts", "tag", "web-01", "OpenVMS", "--state-dir", state]).status == 0)
            // db-01's certificate is replaced by one that ends in five days; web-01 keeps its year.
            let now = Int64(Date().timeIntervalSince1970)
            let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
            try database.recordSigned(by: "test", at: now) {
                IssuedCertificate(serial: "5D", hostName: "db-01", fingerprint: "f", notAfter: now + 5 * 86_400 + 60, issuedAt: now)
            }

            let table = try portwarden(["hosts", "list", "--state-dir", state])
            let lines = table.output.split(separator: "\n").map(String.init)
            #expect(lines.first?.contains("CERT EXPIRES") == true, "\(table.output)")
            #expect(lines.contains { $0.hasPrefix("db-01") && $0.contains("(in 5d") }, "flagged within 30 days: \(table.output)")
            let webExpiry = String(Timestamp.rfc3339(try #require(try database.certificates(host: "web-01").last).notAfter).prefix(10))
            #expect(lines.contains { $0.hasPrefix("web-01") && $0.hasSuffix(webExpiry) }, "\(table.output)")

            let listed = try portwarden(["hosts", "list", "--format", "json", "--state-dir", state])
            let hosts = try listingRows(listed.output, "hosts")
            #expect(hosts.map { $0["host"] as? String } == ["db-01", "web-01"])
            let keys: Set<String> = ["host", "state", "first_report", "last_report", "last_collected", "listening", "last_sequence", "tags",
                                     "labels", "certificate", "refused", "retired"]
            #expect(hosts.allSatisfy { Set($0.keys) == keys }, "\(hosts)")
            let web = try #require(hosts.last), db = try #require(hosts.first)
            #expect(web["state"] as? String == "reporting" && web["listening"] as? Int == 1)
            #expect(web["tags"] as? [String] == ["OpenVMS"] && (web["labels"] as? [String: String]) == ["role": "web"])
            let certificate = try #require(db["certificate"] as? [String: Any])
            #expect(certificate["serial"] as? String == "5D" && certificate["expires_within_30_days"] as? Bool == true
                    && certificate["expired"] as? Bool == false)
            #expect((web["certificate"] as? [String: Any])?["expires_within_30_days"] as? Bool == false)
            #expect(web["retired"] is NSNull && web["refused"] is NSNull)

            try #require(try portwarden(["hosts", "forget", "db-01", "--state-dir", state]).status == 0)
            let all = try portwarden(["hosts", "list", "--all", "--format", "json", "--state-dir", state])
            let everyone = try listingRows(all.output, "hosts")
            let retired = try #require(everyone.first { $0["host"] as? String == "db-01" })
            #expect(retired["state"] as? String == "retired" && retired["certificate"] is NSNull, "its certificate was revoked")
            #expect((retired["retired"] as? [String: Any])?["by"] as? String != nil)
            let dash = try portwarden(["hosts", "list", "--all", "--state-dir", state]).output
            #expect(dash.split(separator: "\n").contains { $0.hasPrefix("db-01") && $0.hasSuffix(" -") }, "\(dash)")
        }
    }

    /// The quick start's state (scripts/quickstart): a collector, this host enrolled with
    /// the secret and reporting once. `report trend`'s coverage, its daily table and
    /// `hosts list` say the same; then a host whose clock runs ahead changes nothing.
    @Test func coverageHostsListAndTheDailyTableAgreeOnTheQuickStartsState() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try writeSecret()
        let port = try unusedPort()
        let server = try serve(port: port, ["--policies", Self.policies])
        defer { server.terminate(); server.waitUntilExit() }
        let config = try enrollAgent("quick-01", port: port)
        let ran = try agent(["run", "--once", "--config", config])
        try #require(ran.status == 0, "\(ran.output)")

        func agree(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let trend = try portwarden(["report", "trend", "--since", "1d", "--format", "json", "--state-dir", state])
            let json = try #require(try JSONSerialization.jsonObject(with: Data(trend.output.utf8)) as? [String: Any])
            let coverage = try #require(json["coverage"] as? [String: Any])
            #expect(coverage["hosts"] as? Int == count && coverage["reporting"] as? Int == count && coverage["stale"] as? Int == 0,
                    "\(coverage)", sourceLocation: sourceLocation)
            let days = try #require(json["days"] as? [[String: Any]])
            #expect(days.last?["hosts_reporting"] as? Int == count && days.last?["data"] as? Bool == true, "\(days)",
                    sourceLocation: sourceLocation)
            // Only today has data: yesterday (in the window since 1d) ended before the first report.
            #expect(days.dropLast().allSatisfy { $0["data"] as? Bool == false && $0["hosts_exposed"] is NSNull }, "\(days)",
                    sourceLocation: sourceLocation)

            let listed = try portwarden(["hosts", "list", "--format", "json", "--state-dir", state])
            let hosts = try listingRows(listed.output, "hosts")
            #expect(hosts.count == count && hosts.allSatisfy { $0["state"] as? String == "reporting" }, "\(hosts)",
                    sourceLocation: sourceLocation)

            let table = try portwarden(["report", "trend", "--since", "1d", "--state-dir", state]).output
            #expect(table.contains("Coverage: \(count) hosts, \(count) reporting, 0 stale"), "\(table)", sourceLocation: sourceLocation)
            #expect(!table.contains("Trend: worse") && !table.contains("Trend: better"), "one day of data: \(table)",
                    sourceLocation: sourceLocation)
            let today = try #require(table.split(separator: "\n").last { $0.hasPrefix(String(Timestamp.rfc3339(Int64(Date().timeIntervalSince1970)).prefix(10))) })
            #expect(today.split(separator: " ", omittingEmptySubsequences: true)[1] == "\(count)", "\(today)",
                    sourceLocation: sourceLocation)
        }
        try agree(1)

        // A host whose clock runs 200 seconds ahead (within max_clock_skew): counted from
        // when the collector received its first report, like any other.
        let fast = try enroll("fast-01")
        let ahead = Self.snapshot("fast-01", 1, at: Self.now(200), [Self.listener(22)])
        let stored = try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: fast, timeout: 10)
            .post("/v1/reports", body: Self.body(ahead))
        try #require(stored.status == 200, "\(stored.text)")
        try agree(2)
    }
}
