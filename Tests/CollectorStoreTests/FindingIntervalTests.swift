import CollectorStore
import Foundation
import Testing
import PortwardenModel

/// Findings open when first produced and are resolved by the first complete evaluation
/// without them; the store knows no policy, so a stand-in evaluator objects to port 557.
struct FindingIntervalTests {
    static let t0 = "2030-01-15T10:00:00Z"
    static let t0Seconds: Int64 = 1_894_701_600

    /// Port 557 is a finding, waived while `at` is before `waivedUntil`.
    static func evaluator(waivedUntil: Date? = nil) -> FindingEvaluator {
        { subject in
            subject.listeners.filter { $0.port == 557 }.map { listener in
                let waived = waivedUntil.map { subject.at < $0 } ?? false
                let untagged = !subject.tags.applied(to: []).contains("OpenVMS")
                return untagged ? ObservedFinding(rule: "openvms-sysipc", severity: "critical", listener: listener,
                                                  waiver: waived ? "openvms-sysipc on web-* until 2030-01-31" : nil,
                                                  policyVersion: "v1") : nil
            }.compactMap { $0 }
        }
    }

    static func ingest(_ db: any HistoryStore, _ sequence: UInt64, at time: String, complete: Bool = true,
                       _ listeners: [Listener], evaluator: @escaping FindingEvaluator = evaluator()) throws {
        _ = try db.ingest(IngestTests.snapshot(sequence, at: time, complete: complete, listeners), host: "web-01",
                          bodyDigest: "d\(sequence)", receivedAt: Int64(sequence), findings: evaluator)
    }

    func all(_ db: any HistoryStore) throws -> [FindingInterval] {
        try db.findingHistory(host: "web-01")
    }

    @Test(arguments: StoreMaker.all) func aFindingOpensWithItsListenerOwnersAndPolicyVersion(_ store: StoreMaker) throws {
        let db = try store.make()
        try Self.ingest(db, 1, at: Self.t0, [IngestTests.listener(22, [IngestTests.sshd]), IngestTests.listener(557, [IngestTests.vmsd])])
        let open = try db.openFindings(host: "web-01")
        try #require(open.count == 1)
        #expect(open[0].rule == "openvms-sysipc")
        #expect(open[0].port == 557 && open[0].protocol == "tcp" && open[0].family == "ipv4" && open[0].address == "0.0.0.0")
        #expect(open[0].owners.contains("\"name\":\"vmsd\""))
        #expect(!open[0].waived && open[0].waiver == nil)
        #expect(open[0].policyVersion == "v1")
        #expect(open[0].opened == Self.t0Seconds && open[0].closed == nil)
    }

    @Test(arguments: StoreMaker.all) func anUnchangedFindingAddsNoRow(_ store: StoreMaker) throws {
        let db = try store.make()
        for minute in 0..<10 {
            var vmsd = IngestTests.vmsd
            vmsd.pid = Int32(400 + minute)  // restarted: the same finding
            try Self.ingest(db, UInt64(minute + 1), at: "2030-01-15T10:0\(minute):00Z", [IngestTests.listener(557, [vmsd])])
        }
        #expect(try all(db).count == 1)
        #expect(try db.openFindings(host: "web-01").count == 1)
    }

    @Test(arguments: StoreMaker.all) func aCompleteSnapshotWithoutTheListenerResolvesIt(_ store: StoreMaker) throws {
        let db = try store.make()
        try Self.ingest(db, 1, at: Self.t0, [IngestTests.listener(557, [IngestTests.vmsd])])
        try Self.ingest(db, 2, at: "2030-01-15T10:05:00Z", [IngestTests.listener(22, [IngestTests.sshd])])
        let history = try all(db)
        #expect(history.count == 1)
        #expect(history[0].closed == Self.t0Seconds + 300)
        #expect(try db.openFindings(host: "web-01").isEmpty)
    }

    @Test(arguments: StoreMaker.all) func anIncompleteSnapshotResolvesNothing(_ store: StoreMaker) throws {
        let db = try store.make()
        try Self.ingest(db, 1, at: Self.t0, [IngestTests.listener(557, [IngestTests.vmsd])])
        try Self.ingest(db, 2, at: "2030-01-15T10:05:00Z", complete: false, [])
        #expect(try db.openFindings(host: "web-01").count == 1, "a listener it did not see may only have been hidden")
    }

    @Test(arguments: StoreMaker.all) func waivedThenLiveIsTwoIntervals(_ store: StoreMaker) throws {
        let db = try store.make()
        let expiry = Date(timeIntervalSince1970: TimeInterval(Self.t0Seconds + 3_600))
        let evaluate = Self.evaluator(waivedUntil: expiry)
        try Self.ingest(db, 1, at: Self.t0, [IngestTests.listener(557, [IngestTests.vmsd])], evaluator: evaluate)
        #expect(try db.openFindings(host: "web-01").map(\.waived) == [true])
        try Self.ingest(db, 2, at: "2030-01-15T12:00:00Z", [IngestTests.listener(557, [IngestTests.vmsd])], evaluator: evaluate)
        let history = try all(db)
        #expect(history.count == 2)
        #expect(history[0].waived && history[0].closed == Self.t0Seconds + 7_200)
        #expect(history[0].waiver == "openvms-sysipc on web-* until 2030-01-31")
        #expect(!history[1].waived && history[1].closed == nil && history[1].opened == Self.t0Seconds + 7_200)
    }

    @Test(arguments: StoreMaker.all) func aLapsedWaiverTurnsTheFindingOnWithoutAReport(_ store: StoreMaker) throws {
        let db = try store.make()
        let expiry = Date(timeIntervalSince1970: TimeInterval(Self.t0Seconds + 3_600))
        let evaluate = Self.evaluator(waivedUntil: expiry)
        try Self.ingest(db, 1, at: Self.t0, [IngestTests.listener(557, [IngestTests.vmsd])], evaluator: evaluate)
        let changes = try db.reevaluateFindings(at: expiry, evaluate: evaluate)
        #expect(changes == FindingChanges(opened: 1, resolved: 1))
        let open = try db.openFindings(host: "web-01")
        #expect(open.map(\.waived) == [false])
        #expect(open.first?.owners.contains("vmsd") == true, "the stored listener's owners come back")
        #expect(try db.reevaluateFindings(at: expiry, evaluate: evaluate) == FindingChanges(), "evaluating again changes nothing")
    }

    @Test(arguments: StoreMaker.all) func withoutAPolicyNothingIsOpenedOrResolved(_ store: StoreMaker) throws {
        let db = try store.make()
        try Self.ingest(db, 1, at: Self.t0, [IngestTests.listener(557, [IngestTests.vmsd])])
        try Self.ingest(db, 2, at: "2030-01-15T10:05:00Z", [], evaluator: { _ in nil })
        #expect(try db.openFindings(host: "web-01").count == 1)
        #expect(try db.reevaluateFindings(at: Date(), evaluate: { _ in nil }) == FindingChanges())
    }

    @Test(arguments: StoreMaker.all) func tagsGivenAndTakenOverrideTheInventory(_ store: StoreMaker) throws {
        let db = try store.make()
        try db.tag(host: "web-01", "OpenVMS", at: 1)
        #expect(try db.tagEdits(host: "web-01") == TagEdits(added: ["OpenVMS"]))
        try Self.ingest(db, 1, at: Self.t0, [IngestTests.listener(557, [IngestTests.vmsd])])
        #expect(try db.openFindings(host: "web-01").isEmpty, "the tag is read inside ingest's transaction")

        try db.untag(host: "vms-01", "openvms", at: 2)
        let edits = try db.tagEdits(host: "vms-01")
        #expect(edits.applied(to: ["OpenVMS", "nfs-server"]) == ["nfs-server"], "a removal beats the inventory, case aside")
        try db.tag(host: "vms-01", "OpenVMS", at: 3)
        #expect(try db.tagEdits(host: "vms-01") == TagEdits(added: ["OpenVMS"]), "tag replaces an earlier untag")
        #expect(try db.forgetTag(host: "vms-01", "OPENVMS"))
        #expect(try db.tagEdits(host: "vms-01") == TagEdits())
        #expect(try db.assignedTags() == ["OpenVMS"])
    }

    @Test(arguments: StoreMaker.all) func labelsAreKeptPerHostLatest(_ store: StoreMaker) throws {
        let db = try store.make()
        var snapshot = IngestTests.snapshot(1, at: Self.t0, [])
        snapshot.host.labels = ["role": "gateway"]
        _ = try db.ingest(snapshot, host: "web-01", bodyDigest: "a", receivedAt: 1)
        #expect(try db.host(named: "web-01")?.labelMap == ["role": "gateway"])
        snapshot = IngestTests.snapshot(2, at: "2030-01-15T10:05:00Z", [])
        _ = try db.ingest(snapshot, host: "web-01", bodyDigest: "b", receivedAt: 2)
        #expect(try db.host(named: "web-01")?.labelMap == [:])
    }

    @Test(arguments: StoreMaker.all) func storedListenersKeepUidAndHowTheyWereFound(_ store: StoreMaker) throws {
        let db = try store.make()
        var hidden = IngestTests.listener(557, [IngestTests.vmsd])
        hidden.uid = 1000
        hidden.foundBy = .pidfd
        try Self.ingest(db, 1, at: Self.t0, [hidden])
        let listener = try #require(try db.openListeners(host: "web-01").first).listener
        #expect(listener.uid == 1000 && listener.foundBy == .pidfd && listener.port == 557)
        #expect(listener.processes.map(\.name) == ["vmsd"])
    }
}
