import CollectorClient
import CollectorServer
import CollectorStore
import CollectorTestSupport
import Foundation
import Logging
import Policy
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Reports evaluated as they arrive, under a policy that reloads and whose waivers lapse.
@Suite(.serialized)
struct PolicyIngestTests {
    /// The repository's Policies/.
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Policies").path

    static var quiet: Logger {
        var logger = Logger(label: "test.policy")
        logger.logLevel = .critical
        return logger
    }

    /// A copy of the shipped policy in a temporary directory, to edit.
    static func policyCopy() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pw-policy-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: shipped, toPath: dir)
        return dir
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func a557ReportFromAnUntaggedHostOpensAFindingAndATaggedOneDoesNot() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let metrics = CollectorMetrics()
        let holder = PolicyHolder(directory: Self.shipped, metrics: metrics, logger: Self.quiet)
        #expect(holder.reload())
        try database.tag(host: "legacy-01", "OpenVMS", at: 0, by: "test")  // what `portwarden hosts tag legacy-01 OpenVMS` does
        let collector = try await RunningCollector.start(pki: pki, database: database, policy: holder, metrics: metrics)
        defer { collector.stop() }
        for host in ["web-01", "legacy-01"] {
            let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port),
                                                 context: try pki.clientContext(try pki.host(host)), timeout: 5)
            let response = try await blocking { try connection.post("/v1/reports", body: ReportTests.snapshot(host: host)) }
            #expect(response.status == 200, "\(response.text)")
        }
        let web = try database.openFindings(host: "web-01")
        #expect(web.map(\.rule) == ["openvms-sysipc-off-openvms"])
        #expect(web.first?.policyVersion == holder.policy?.digest)
        #expect(try database.openFindings(host: "legacy-01").isEmpty, "tagged OpenVMS with hosts tag")

        let scrape = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port),
                                         context: try pki.clientContext(try pki.host("prometheus")), timeout: 5)
        let text = try await blocking { try scrape.get("/metrics") }.text
        #expect(text.contains("portwarden_findings_open{severity=\"critical\"} 1"), "\(text)")
        #expect(text.contains("portwarden_policy_info{version=\"\(holder.policy!.digest)\"} 1"))
    }

    @Test func aPolicyWithErrorsIsRefusedAndTheOldOneKeepsRunning() throws {
        let dir = try Self.policyCopy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let metrics = CollectorMetrics()
        let holder = PolicyHolder(directory: dir, metrics: metrics, logger: Self.quiet)
        #expect(holder.reload())
        let good = try #require(holder.policy?.digest)
        #expect(!holder.reloadIfChanged(), "nothing changed")

        try Self.write("rules:\n  - id: broken\n    why: x\n    severity: severe\n    when: port 1\n", to: dir + "/broken.yaml")
        #expect(!holder.reloadIfChanged())
        #expect(holder.policy?.digest == good, "the old policy stays in force")
        var text = metrics.render(hosts: 0, staleHosts: 0)
        #expect(text.contains("portwarden_policy_load_errors_total 1"), "\(text)")
        #expect(text.contains("portwarden_policy_last_load_failed 1"))
        #expect(text.contains("portwarden_policy_info{version=\"\(good)\"} 1"))
        #expect(!holder.reloadIfChanged(), "a refused file is not read again until it changes")

        try Self.write("rules:\n  - id: port-one\n    why: x\n    severity: low\n    when: port 1\n", to: dir + "/broken.yaml")
        #expect(holder.reloadIfChanged())
        let fixed = try #require(holder.policy?.digest)
        #expect(fixed != good)
        text = metrics.render(hosts: 0, staleHosts: 0)
        #expect(text.contains("portwarden_policy_info{version=\"\(fixed)\"} 1"))
        #expect(text.contains("portwarden_policy_last_load_failed 0"))
        #expect(text.contains("portwarden_policy_load_errors_total 1"))
    }

    @Test func aLapsedWaiverReopensTheFindingWithoutAReport() throws {
        let dir = try Self.policyCopy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.write("""
            waivers:
              - rule: openvms-sysipc-off-openvms
                host: "web-*"
                port: 557
                owner: infra@example.com
                reason: migration off the VMS gateway (INFRA-9)
                expires: 2030-01-31
            """, to: dir + "/waivers.yaml")
        let database = try CollectorDatabase.inMemory()
        let holder = PolicyHolder(directory: dir, metrics: CollectorMetrics(), logger: Self.quiet)
        let t0 = Date(timeIntervalSince1970: 1_894_701_600)  // 2030-01-15 10:00 UTC
        #expect(holder.reload(now: t0))
        let watcher = PolicyWatcher(holder: holder, database: database, logger: Self.quiet)

        let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(ReportTests.snapshot(host: "web-01")))
        var at2030 = snapshot
        at2030.collectedAt = "2030-01-15T10:00:00Z"
        _ = try database.ingest(at2030, host: "web-01", bodyDigest: "a", receivedAt: 1, findings: holder.evaluator)
        #expect(try database.openFindings(host: "web-01").map(\.waived) == [true])

        #expect(watcher.tick(now: t0.addingTimeInterval(3_600)) == nil, "nothing lapsed, nothing changed")
        let lapse = Date(timeIntervalSince1970: 1_896_134_400 + 5)  // 2030-02-01 00:00:05 UTC
        #expect(watcher.tick(now: lapse) == FindingChanges(opened: 1, resolved: 1))
        let history = try database.findingHistory(host: "web-01")
        #expect(history.map(\.waived) == [true, false])
        #expect(history[0].closed == 1_896_134_405 && history[1].closed == nil)
        #expect(history[0].waiver?.contains("until 2030-01-31") == true)
        #expect(watcher.tick(now: lapse.addingTimeInterval(10)) == nil, "the next lapse is none")
    }
}
