import CollectorStore
import Foundation
import PortwardenModel
import Testing

/// A database written by the previous release (a fixture per release, see
/// `UpgradeFixture`), opened with today's code: what the release stored reads back
/// through the store's API the same — behaviour, not table layouts, so a later
/// migration or another store behind the same interface keeps these passing.
@Suite struct SQLiteUpgradeTests {
    @Test func thePreviousReleasesDatabaseIsAmongTheFixtures() {
        #expect(!UpgradeFixture.all.isEmpty, "no Fixtures/upgrade-from-*: run scripts/make-upgrade-fixture with a release's binaries")
    }

    @Test(arguments: UpgradeFixture.all)
    func openingItAppliesExactlyTheNewerMigrations(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let known = CollectorDatabase.migrations
        #expect(Array(known.prefix(fixture.manifest.migrations.count)) == fixture.manifest.migrations,
                "a shipped migration was renamed, dropped or reordered")
        #expect(fixture.migrated == Array(known.dropFirst(fixture.manifest.migrations.count)))
        // Now current: what every other command insists on.
        #expect(throws: Never.self) { try CollectorDatabase.existing(path: fixture.temporary + "/portwarden.sqlite") }
    }

    @Test(arguments: UpgradeFixture.all)
    func hostsKeepTheirTimesLabelsAndState(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database
        let hosts = try db.hosts(now: Story.at("11:00:00"), staleAfter: 900).map(\.host)
        #expect(hosts.map(\.name) == Story.hosts)
        let byName = Dictionary(uniqueKeysWithValues: hosts.map { ($0.name, $0) })
        let times = ["web-01": ("08:00:00", "11:00:00"), "db-01": ("08:05:00", "09:05:00"),
                     "vms-01": ("08:10:00", "09:10:00"), "old-01": ("08:15:00", "08:15:00")]
        for (host, (first, last)) in times {
            let record = try #require(byName[host])
            #expect(record.firstSeen == Story.at(first), "\(host)")
            #expect(record.lastSeen == Story.at(last), "\(host)")
            #expect(record.lastSequence == Story.at(last) * 1_000_000, "\(host)")
            #expect(record.lastReceived > record.lastSeen, "\(host): received when the script ran, after the fixed times")
            #expect(record.labelMap == Story.labels[host] ?? [:], "\(host)")
            #expect(record.machineID == "machine-\(host)" && record.kernel == "6.1.0-28-amd64", "\(host)")
            #expect(try db.host(named: host) == record)
        }
        #expect(byName["web-01"]?.bootID == "boot-web-2", "rebooted before its last report")
        #expect(byName["db-01"]?.complete == false, "its last stored report was incomplete")
        #expect(byName["web-01"]?.complete == true)
    }

    @Test(arguments: UpgradeFixture.all)
    func listenerIntervalsKeepTheirTimesAndOwners(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database
        var intervals: [String: [ListenerInterval]] = [:]
        try db.forEachListenerInterval(since: 0, until: .max) { intervals[$0, default: []].append($1) }
        func spans(_ host: String) -> Set<String> {
            Set((intervals[host] ?? []).map { "\($0.protocol)/\($0.port) \($0.opened)-\($0.closed.map(String.init) ?? "open")" })
        }
        #expect(spans("web-01") == ["tcp/22 \(Story.at("08:00:00"))-open", "tcp/557 \(Story.at("08:00:00"))-\(Story.at("10:00:00"))",
                                    "tcp/8080 \(Story.at("08:00:00"))-open", "udp/123 \(Story.at("10:00:00"))-open"])
        // The incomplete report without 5432 closed nothing.
        #expect(spans("db-01") == ["tcp/5432 \(Story.at("08:05:00"))-open", "tcp/557 \(Story.at("08:05:00"))-open",
                                   "tcp/55 \(Story.at("08:05:00"))-open"])
        // The bridge's new exe is a new listener identity: one interval closed, one opened.
        #expect(spans("vms-01") == ["udp/2049 \(Story.at("08:10:00"))-open", "tcp/557 \(Story.at("08:10:00"))-open",
                                    "tcp/55 \(Story.at("08:10:00"))-\(Story.at("09:10:00"))", "tcp/55 \(Story.at("09:10:00"))-open"])
        #expect(spans("old-01") == ["tcp/22 \(Story.at("08:15:00"))-open", "tcp/55 \(Story.at("08:15:00"))-open"])
        #expect(try db.openListeners(host: "web-01").map(\.port) == [22, 123, 8080])

        // What a rule reads again from the history: scope, namespace, uid, owners.
        let web = try db.openListeners(host: "web-01").map(\.listener)
        let http = try #require(web.first { $0.port == 8080 })
        #expect(http.family == .ipv6 && http.address == "::" && http.scope == .any && http.uid == 0 && http.hostNetns)
        #expect(Set(http.processes.map { "\($0.name) \($0.exe ?? "-") \($0.user ?? "-") \($0.unit ?? "-")" })
                == ["nginx /usr/sbin/nginx root nginx.service", "nginx /usr/sbin/nginx www-data nginx.service"])
        let ntp = try #require(web.first { $0.port == 123 })
        #expect(ntp.transport == .udp && ntp.uid == 104 && ntp.processes.map(\.user) == ["_chrony"])
        let contained = try #require(try db.openListeners(host: "db-01").map(\.listener).first { $0.port == 55 })
        #expect(contained.netns == UInt64(Story.containerNetns) && !contained.hostNetns)
        #expect(contained.processes.map(\.container) == ["docker://4f1c0ffee"])
        let kernel = try #require(try db.openListeners(host: "vms-01").map(\.listener).first { $0.port == 2049 })
        #expect(kernel.processes.isEmpty && kernel.foundBy == .procfs)
        let timeline = try db.listenerTimeline(since: Story.at("09:30:00"), host: "vms-01")
        #expect(timeline.map(\.host.name) == ["vms-01"])
        #expect(timeline.first?.intervals.map(\.port).sorted() == [55, 557, 2049], "the interval closed at 09:10 is left out")
    }

    @Test(arguments: UpgradeFixture.all)
    func findingsStayOpenResolvedAndWaived(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database
        func history(_ host: String) throws -> Set<String> {
            Set(try db.findingHistory(host: host).map {
                "\($0.rule) \($0.severity) \($0.port) \($0.waived ? "waived" : "live") \($0.opened)-\($0.closed.map(String.init) ?? "open")"
            })
        }
        #expect(try history("web-01") == [
            "openvms-sysipc-off-openvms critical 557 live \(Story.at("08:00:00"))-\(Story.at("10:00:00"))",
            "prod-alt-http low 8080 live \(Story.at("08:00:00"))-open",  // a rule on a label
        ])
        // Tagged OpenVMS by an operator: 557 is no finding there.
        #expect(try history("db-01") == ["isi-gl critical 55 live \(Story.at("08:05:00"))-open"])
        // Untagged OpenVMS against the inventory: 557 is. The waived finding outlived its listener's change.
        #expect(try history("vms-01") == [
            "isi-gl critical 55 waived \(Story.at("08:10:00"))-open",
            "openvms-sysipc-off-openvms critical 557 live \(Story.at("08:10:00"))-open",
        ])
        #expect(try history("old-01") == ["isi-gl critical 55 live \(Story.at("08:15:00"))-open"])
        let waived = try #require(try db.openFindings(host: "vms-01").first { $0.waived })
        #expect(waived.waiver == "isi-gl on vms-0[1-9] port 55 until 2099-12-31")
        #expect(try db.openFindings(host: "web-01").map(\.rule) == ["prod-alt-http"])
        #expect(try db.openFindingCounts() == ["critical": 3, "low": 1], "waived findings are not counted")
        var exported = 0
        try db.forEachFindingInterval(since: 0, until: .max) { _, _ in exported += 1 }
        #expect(exported == 6)
    }

    @Test(arguments: UpgradeFixture.all)
    func receiptRunsAndTagsSurvive(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database
        var runs: [String: [String]] = [:]
        try db.forEachReceiptRun(since: 0, until: .max) { host, run in
            runs[host, default: []].append("\(run.bootID ?? "-") \(run.firstCollected)-\(run.lastCollected) \(run.reports) "
                                           + "\(run.firstSequence == run.firstCollected * 1_000_000)")
        }
        #expect(runs["web-01"] == ["boot-web-1 \(Story.at("08:00:00"))-\(Story.at("09:00:00")) 2 true",
                                   "boot-web-1 \(Story.at("10:00:00"))-\(Story.at("10:00:00")) 1 true",
                                   "boot-web-2 \(Story.at("11:00:00"))-\(Story.at("11:00:00")) 1 true"])
        #expect(runs["db-01"] == ["boot-db-1 \(Story.at("08:05:00"))-\(Story.at("09:05:00")) 2 true"])
        #expect(runs["vms-01"]?.count == 2 && runs["old-01"]?.count == 1)

        #expect(try db.tagEdits(host: "db-01") == TagEdits(added: ["OpenVMS"]))
        #expect(try db.tagEdits(host: "vms-01") == TagEdits(removed: ["OpenVMS"]))
        #expect(try db.tagEdits(host: "web-01") == TagEdits(added: ["frontend"]), "canary was forgotten")
        #expect(try db.allTagEdits().keys.sorted() == ["db-01", "vms-01", "web-01"])
        #expect(try db.assignedTags() == ["OpenVMS", "frontend"])
    }
}
