import CollectorStore
import Findings
import Foundation
import Policy
import PortwardenModel
import PortwardenTestSupport
import Reports
import Testing

/// Reports take rule texts and tags from the policy versions the collector recorded,
/// each finding's text from the version that opened it, and say when nothing was evaluated.
struct RecordedPolicyTests {
    static func policy(why: String) throws -> PolicySet {
        let load = PolicySet.load([
            PolicySource(path: "legacy-ports.yaml", text: """
                rules:
                  - id: sysipc
                    why: \(why)
                    severity: critical
                    when: port 557
                    unless: tag OpenVMS
                """),
            PolicySource(path: "inventory.yaml", text: "hosts:\n  - match: \"vms-*\"\n    tags: [OpenVMS]\n"),
        ], today: Day(iso: "2026-11-01")!)
        return try #require(load.policy, "\(load.diagnostics)")
    }

    static func seconds(_ time: String) -> Int64 { Timestamp.seconds(rfc3339: time)! }

    @Test func aRecordedVersionLoadsBackAsTheSamePolicy() throws {
        let policy = try Self.policy(why: "first text")
        let again = try #require(PolicySet.load(PolicyVersion(policy).sources, today: Day(iso: "2030-01-01")!).policy)
        #expect(again.digest == policy.digest && again.rules.map(\.why) == ["first text"])
        #expect(again.inventory.tags(for: "vms-01") == ["OpenVMS"])
    }

    @Test func eachFindingReadsItsOwnVersionsTextAndTagsComeFromTheRecord() throws {
        let database = try HistoryStores.inMemory()
        let first = try Self.policy(why: "first text"), second = try Self.policy(why: "second text")
        try database.recordPolicy(first, at: Self.seconds("2026-11-02T00:00:00Z"))
        _ = try database.ingest(HistoryFixtures.snapshot(1, at: "2026-11-02T10:00:00Z", host: "web-01",
                                                         [HistoryFixtures.listener(557, [HistoryFixtures.sshd])]),
                                host: "web-01", bodyDigest: "a", receivedAt: Self.seconds("2026-11-02T10:00:00Z"),
                                findings: first.findingEvaluator)
        try database.recordPolicy(nil as PolicyVersion?, at: Self.seconds("2026-11-03T00:00:00Z"))
        try database.recordPolicy(second, at: Self.seconds("2026-11-04T00:00:00Z"))
        _ = try database.ingest(HistoryFixtures.snapshot(1, at: "2026-11-04T10:00:00Z", host: "web-02",
                                                         [HistoryFixtures.listener(557, [HistoryFixtures.sshd])]),
                                host: "web-02", bodyDigest: "b", receivedAt: Self.seconds("2026-11-04T10:00:00Z"),
                                findings: second.findingEvaluator)

        let policies = PolicyHistory(database: database)
        let now = Self.seconds("2026-11-05T00:00:00Z")
        let old = try HostReport(database: database, host: "web-01", policies: policies, staleAfter: 86_400 * 30, now: now)
        #expect(old.findings.map(\.policyVersion) == [first.digest])
        #expect(String(decoding: old.json(), as: UTF8.self).contains(#""why":"first text","policy_version":"\#(first.digest)""#))
        #expect(old.table().contains("Policy version: \(first.digest.prefix(12)) (1 finding)"), "\(old.table())")
        #expect(old.table().contains("NOT EVALUATED: 2026-11-03T00:00:00Z to 2026-11-04T00:00:00Z"), "\(old.table())")
        #expect(old.csv().contains(first.digest))

        let window = try TimeWindow.parse(since: "2026-11-01", until: "2026-11-03", now: now)  // through the 3rd
        var trend = try TrendReport.compute(
            spans: FindingSpan.stored(in: database, window: window), database: database, grid: DayGrid(window: window), window: window,
            grouping: .tag, why: policies.ruleTexts(versions: [first.digest, second.digest], at: now), tags: policies.tags(at: now).of,
            staleAfter: 86_400 * 30, now: now)
        trend.unevaluated = policies.unevaluated(since: window.since, until: window.until)
        #expect(trend.openFindings.map(\.why) == ["first text"])
        #expect(trend.table().contains("NOT EVALUATED: 2026-11-03T00:00:00Z to 2026-11-04T00:00:00Z"), "\(trend.table())")
        #expect(String(decoding: trend.json(), as: UTF8.self)
            .contains(#""unevaluated":[{"since":"2026-11-03T00:00:00Z","until":"2026-11-04T00:00:00Z"}]"#))

        let newer = try HostReport(database: database, host: "web-02", policies: policies, staleAfter: 86_400 * 30, now: now)
        #expect(newer.findings.map { newer.why[$0.rule, $0.policyVersion] } == ["second text"])
        #expect(newer.unevaluated.isEmpty, "web-02 reported only after the stretch under no policy")
        #expect(policies.tags(at: now).of("vms-01") == ["OpenVMS"], "from the recorded inventory")
    }

    @Test func withNothingRecordedReportsHaveNoTextsAndNoClaim() throws {
        let database = try HistoryStores.inMemory()
        let policies = PolicyHistory(database: database)
        #expect(policies.policy(at: .max) == nil)
        #expect(policies.ruleTexts(versions: ["never-recorded"], at: 0)["sysipc", "never-recorded"] == "")
        #expect(policies.unevaluated(since: 0, until: .max).isEmpty, "unknown is not none")
        #expect(policies.tags(at: 0).of("vms-01").isEmpty)
    }
}
