import CollectorStore
import Foundation
import PortwardenModel
import Testing

/// History goes on across the upgrade: the identities the previous release stored match
/// what today's code computes, so an unchanged host opens nothing and a changed one
/// opens and closes only what changed.
extension SQLiteUpgradeTests {
    /// Ingests `snapshot` as the collector does: its clock's checks, the policy, received when collected.
    static func report(_ snapshot: Snapshot, to fixture: UpgradeFixture, bodyDigest: String) throws -> IngestOutcome {
        try fixture.database.ingest(snapshot, host: snapshot.host.hostname, bodyDigest: bodyDigest,
                                    receivedAt: Story.seconds(snapshot.collectedAt), findings: fixture.evaluator,
                                    clock: ReportClock())
    }

    /// Every interval of every host, open or closed, as comparable text.
    static func everything(_ db: CollectorDatabase) throws -> (listeners: [String], findings: [String]) {
        var listeners: [String] = [], findings: [String] = []
        try db.forEachListenerInterval(since: 0, until: .max) { host, i in
            listeners.append("\(host) \(i.id ?? 0) \(i.identity) \(i.opened) \(i.closed.map(String.init) ?? "open")")
        }
        try db.forEachFindingInterval(since: 0, until: .max) { host, f in
            findings.append("\(host) \(f.id ?? 0) \(f.identity) \(f.opened) \(f.closed.map(String.init) ?? "open")")
        }
        return (listeners.sorted(), findings.sorted())
    }

    @Test(arguments: UpgradeFixture.all)
    func reevaluatingUnderTheSamePolicyChangesNothing(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let before = try Self.everything(fixture.database)
        // Tags from `hosts tag`/`untag`, labels and owners as the release stored them
        // decide as they did at ingest.
        let changes = try fixture.database.reevaluateFindings(at: Date(timeIntervalSince1970: TimeInterval(Story.at("12:00:00"))),
                                                              evaluate: fixture.evaluator)
        #expect(changes == FindingChanges(opened: 0, resolved: 0))
        let after = try Self.everything(fixture.database)
        #expect(Set(after.listeners).symmetricDifference(before.listeners).isEmpty)
        #expect(Set(after.findings).symmetricDifference(before.findings).isEmpty)
    }

    @Test(arguments: UpgradeFixture.all)
    func theSameSnapshotAgainOpensNothing(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database
        let before = try Self.everything(db)

        // Redelivered as it was: acknowledged, not stored.
        let last = try #require(fixture.reports.last { $0.host.hostname == "web-01" })
        #expect(try Self.report(last, to: fixture, bodyDigest: "redelivered") == .duplicate)
        for host in ["web-01", "vms-01", "old-01"] {
            #expect(try Self.report(try fixture.lastReport(of: host), to: fixture, bodyDigest: "again \(host)") == .unchanged, "\(host)")
        }
        // db-01's last stored report was incomplete: all three listeners, complete, change nothing either.
        var db01 = try fixture.lastReport(of: "db-01")
        db01.listeners = try #require(fixture.reports.first { $0.host.hostname == "db-01" }).listeners
        db01.complete = true
        #expect(try Self.report(db01, to: fixture, bodyDigest: "again db-01") == .unchanged)

        let after = try Self.everything(db)
        #expect(Set(after.listeners).symmetricDifference(before.listeners).isEmpty, "no listener interval opened or closed")
        #expect(Set(after.findings).symmetricDifference(before.findings).isEmpty, "no finding opened or resolved")
        #expect(try db.currentRefusals()["db-01"] == nil, "a stored report ends the refusal")
        let web = try #require(try db.host(named: "web-01"))
        #expect(web.lastSeen == Story.at("12:00:00") && web.labelMap == Story.labels["web-01"])
        var runs: [String] = []
        try db.forEachReceiptRun(since: 0, until: .max) { host, run in if host == "web-01" { runs.append("\(run.reports)") } }
        #expect(runs == ["2", "1", "2"], "the unchanged report extended the newest run")
    }

    @Test(arguments: UpgradeFixture.all)
    func aChangedSnapshotOpensAndClosesAsUsual(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database
        let before = try Self.everything(db)
        // web-01 listens on 557 again and chronyd stops.
        var changed = try fixture.lastReport(of: "web-01")
        let sysipc = try #require(fixture.reports.first { $0.host.hostname == "web-01" }?.listeners.first { $0.port == 557 })
        changed.listeners = changed.listeners.filter { $0.port != 123 } + [sysipc]
        #expect(try Self.report(changed, to: fixture, bodyDigest: "changed") == .changed(opened: 1, closed: 1))

        let at = Story.at("12:00:00")
        let after = try Self.everything(db)
        let opened = after.listeners.filter { !before.listeners.contains($0) }
        #expect(opened.count == 2, "557's interval opened, 123's replaced by its closed form: \(opened)")
        #expect(try db.openListeners(host: "web-01").map(\.port) == [22, 557, 8080])
        #expect(before.listeners.filter { !after.listeners.contains($0) }.count == 1, "only 123's interval changed")
        let findings = try db.findingHistory(host: "web-01")
        #expect(findings.count == 3, "557's resolved finding stays; a new one opens")
        #expect(findings.filter { $0.closed == nil }.map { "\($0.rule) \($0.opened)" }.sorted()
                == ["openvms-sysipc-off-openvms \(at)", "prod-alt-http \(Story.at("08:00:00"))"])
        let other = after.findings.filter { !$0.hasPrefix("web-01 ") }
        #expect(other == before.findings.filter { !$0.hasPrefix("web-01 ") }, "other hosts untouched")
        #expect(try db.reevaluateFindings(at: Date(timeIntervalSince1970: TimeInterval(at + 60)), evaluate: fixture.evaluator)
                == FindingChanges())
    }
}
