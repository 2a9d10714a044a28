import CollectorServer
import CollectorStore
import Foundation
import Testing

/// Each policy taking effect is recorded before it evaluates anything; one refused is
/// not, and neither is a directory without rules, which is no policy.
@Suite(.serialized)
struct PolicyRecordTests {
    @Test func eachPolicyTakingEffectIsRecordedAndARefusedOneIsNot() throws {
        let dir = try PolicyIngestTests.policyCopy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try CollectorDatabase.inMemory()
        let holder = PolicyHolder(directory: dir, metrics: CollectorMetrics(), logger: PolicyIngestTests.quiet, history: database)
        #expect(holder.reload(now: Date(timeIntervalSince1970: 100)))
        let first = try #require(holder.policy)
        let recorded = try #require(try database.policyVersion(digest: first.digest))
        #expect(recorded.files.map(\.path) == ["catalog.yaml", "inventory.yaml", "legacy-ports.yaml", "waivers.yaml"], "tests/ left out")
        #expect(recorded.files.first { $0.path == "inventory.yaml" }?.content
                == Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/inventory.yaml"))))

        try PolicyIngestTests.write("rules:\n  - id: broken\n    why: x\n    severity: severe\n    when: port 1\n", to: dir + "/broken.yaml")
        #expect(!holder.reload(now: Date(timeIntervalSince1970: 200)))
        try PolicyIngestTests.write("rules:\n  - id: port-one\n    why: x\n    severity: low\n    when: port 1\n", to: dir + "/broken.yaml")
        #expect(holder.reload(now: Date(timeIntervalSince1970: 300)))
        let second = try #require(holder.policy?.digest)
        #expect(try database.policyPeriods(since: 0, until: .max)
                == [PolicyPeriod(since: 100, until: 300, version: first.digest), PolicyPeriod(since: 300, until: nil, version: second)])

        // Only tests changed: the same version, no new period.
        try PolicyIngestTests.write("cases: []\n", to: dir + "/tests/more.yaml")
        #expect(holder.reload(now: Date(timeIntervalSince1970: 400)))
        #expect(try database.policyPeriods(since: 0, until: .max).count == 2)
    }

    @Test func aDirectoryWithoutARuleFileIsRefusedAndTheOneInForceStays() throws {
        let dir = try PolicyIngestTests.policyCopy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let database = try CollectorDatabase.inMemory()
        let holder = PolicyHolder(directory: dir, metrics: CollectorMetrics(), logger: PolicyIngestTests.quiet, history: database)
        #expect(holder.reload())
        let good = holder.policy?.digest
        try FileManager.default.removeItem(atPath: dir + "/legacy-ports.yaml")
        #expect(!holder.reload(), "catalogue, inventory and waivers alone raise no finding")
        #expect(holder.policy?.digest == good)
        #expect(try database.policyPeriods(since: 0, until: .max).map(\.version) == [good])

        let empty = PolicyHolder(directory: dir, metrics: CollectorMetrics(), logger: PolicyIngestTests.quiet, history: database)
        #expect(!empty.reload() && empty.policy == nil)
    }
}
