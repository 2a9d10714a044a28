import CollectorStore
import Findings
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Findings open when first produced and are resolved by the first complete evaluation
/// without them (`FindingDelta`, written by the store): a stand-in for a policy objects
/// to port 557.
struct FindingIntervalTests {
    static let t0 = "2030-01-15T10:00:00Z"
    static let t0Seconds: Int64 = 1_894_701_600

    /// Port 557 is a finding, waived while `at` is before `waivedUntil`.
    static func evaluator(waivedUntil: Date? = nil) -> FindingEvaluator {
        { subject, open in
            let produced = subject.listeners.filter { $0.port == 557 }.compactMap { listener -> ObservedFinding? in
                let waiver = waivedUntil.map { subject.at < $0 } ?? false ? "openvms-sysipc on web-* until 2030-01-31" : nil
                guard !HostTags.resolve(inventory: [], edits: subject.tags).contains("OpenVMS") else { return nil }
                return ObservedFinding(identity: ObservedFinding.identity(rule: "openvms-sysipc", listener: listener, waiver: waiver),
                                       rule: "openvms-sysipc", severity: "critical", listener: listener, waiver: waiver,
                                       policyVersion: "v1")
            }
            let (opening, resolving) = FindingDelta.between(produced: produced, open: open, complete: subject.complete)
            return FindingUpdate(open: opening, resolve: resolving)
        }
    }

    static func ingest(_ db: any HistoryStore, _ sequence: UInt64, at time: String, complete: Bool = true,
                       _ listeners: [Listener], evaluator: @escaping FindingEvaluator = evaluator()) throws {
        _ = try db.ingest(HistoryFixtures.snapshot(sequence, at: time, complete: complete, listeners), host: "web-01",
                          bodyDigest: "d\(sequence)", receivedAt: Int64(sequence), findings: evaluator)
    }

    func all(_ db: any HistoryStore) throws -> [FindingInterval] {
        try db.findingHistory(host: "web-01")
    }

    @Test func aFindingOpensWithItsListenerOwnersAndPolicyVersion() throws {
        let db = try HistoryStores.inMemory()
        try Self.ingest(db, 1, at: Self.t0, [HistoryFixtures.listener(22, [HistoryFixtures.sshd]), HistoryFixtures.listener(557, [HistoryFixtures.vmsd])])
        let open = try db.openFindings(host: "web-01")
        try #require(open.count == 1)
        #expect(open[0].rule == "openvms-sysipc")
        #expect(open[0].port == 557 && open[0].protocol == "tcp" && open[0].family == "ipv4" && open[0].address == "0.0.0.0")
        #expect(open[0].owners.contains("\"name\":\"vmsd\""))
        #expect(!open[0].waived && open[0].waiver == nil)
        #expect(open[0].policyVersion == "v1")
        #expect(open[0].opened == Self.t0Seconds && open[0].closed == nil)
    }

    @Test func anUnchangedFindingAddsNoRow() throws {
        let db = try HistoryStores.inMemory()
        for minute in 0..<10 {
            var vmsd = HistoryFixtures.vmsd
            vmsd.pid = Int32(400 + minute)  // restarted: the same finding
            try Self.ingest(db, UInt64(minute + 1), at: "2030-01-15T10:0\(minute):00Z", [HistoryFixtures.listener(557, [vmsd])])
        }
        #expect(try all(db).count == 1)
        #expect(try db.openFindings(host: "web-01").count == 1)
    }

    @Test func aCompleteSnapshotWithoutTheListenerResolvesIt() throws {
        let db = try HistoryStores.inMemory()
        try Self.ingest(db, 1, at: Self.t0, [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])])
        try Self.ingest(db, 2, at: "2030-01-15T10:05:00Z", [HistoryFixtures.listener(22, [HistoryFixtures.sshd])])
        let history = try all(db)
        #expect(history.count == 1)
        #expect(history[0].closed == Self.t0Seconds + 300)
        #expect(try db.openFindings(host: "web-01").isEmpty)
    }

    @Test func anIncompleteSnapshotResolvesNothing() throws {
        let db = try HistoryStores.inMemory()
        try Self.ingest(db, 1, at: Self.t0, [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])])
        try Self.ingest(db, 2, at: "2030-01-15T10:05:00Z", complete: false, [])
        #expect(try db.openFindings(host: "web-01").count == 1, "a listener it did not see may only have been hidden")
    }

    @Test func waivedThenLiveIsTwoIntervals() throws {
        let db = try HistoryStores.inMemory()
        let expiry = Date(timeIntervalSince1970: TimeInterval(Self.t0Seconds + 3_600))
        let evaluate = Self.evaluator(waivedUntil: expiry)
        try Self.ingest(db, 1, at: Self.t0, [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])], evaluator: evaluate)
        #expect(try db.openFindings(host: "web-01").map(\.waived) == [true])
        try Self.ingest(db, 2, at: "2030-01-15T12:00:00Z", [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])], evaluator: evaluate)
        let history = try all(db)
        #expect(history.count == 2)
        #expect(history[0].waived && history[0].closed == Self.t0Seconds + 7_200)
        #expect(history[0].waiver == "openvms-sysipc on web-* until 2030-01-31")
        #expect(!history[1].waived && history[1].closed == nil && history[1].opened == Self.t0Seconds + 7_200)
    }

    @Test func aLapsedWaiverTurnsTheFindingOnWithoutAReport() throws {
        let db = try HistoryStores.inMemory()
        let expiry = Date(timeIntervalSince1970: TimeInterval(Self.t0Seconds + 3_600))
        let evaluate = Self.evaluator(waivedUntil: expiry)
        try Self.ingest(db, 1, at: Self.t0, [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])], evaluator: evaluate)
        let changes = try db.reevaluateFindings(at: expiry, evaluate: evaluate)
        #expect(changes == FindingChanges(opened: 1, resolved: 1))
        let open = try db.openFindings(host: "web-01")
        #expect(open.map(\.waived) == [false])
        #expect(open.first?.owners.contains("vmsd") == true, "the stored listener's owners come back")
        #expect(try db.reevaluateFindings(at: expiry, evaluate: evaluate) == FindingChanges(), "evaluating again changes nothing")
    }

    @Test func aSpooledReportDeliveredAfterARevaluationDoesNotWriteFindingsBeforeIt() throws {
        // Waived until 11:00; the collector, back at 12:00, evaluates again: the live finding
        // opens at 12:00. Then the host's spool delivers its 10:05 report.
        let db = try HistoryStores.inMemory()
        let expiry = Date(timeIntervalSince1970: TimeInterval(Self.t0Seconds + 3_600))
        let evaluate = Self.evaluator(waivedUntil: expiry)
        try Self.ingest(db, 1, at: Self.t0, [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])], evaluator: evaluate)
        let noon = Date(timeIntervalSince1970: TimeInterval(Self.t0Seconds + 7_200))
        #expect(try db.reevaluateFindings(at: noon, evaluate: evaluate) == FindingChanges(opened: 1, resolved: 1))
        try Self.ingest(db, 2, at: "2030-01-15T10:05:00Z", [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])], evaluator: evaluate)
        let history = try all(db)
        #expect(history.map(\.waived) == [true, false], "the waiver is not back: \(history)")
        #expect(history.allSatisfy { interval in interval.closed.map { $0 >= interval.opened } ?? true }, "nothing closed before it opened")
        #expect(history[1].closed == nil && history[1].opened == Self.t0Seconds + 7_200)
    }

    @Test func withoutAPolicyNothingIsOpenedOrResolved() throws {
        let db = try HistoryStores.inMemory()
        try Self.ingest(db, 1, at: Self.t0, [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])])
        try Self.ingest(db, 2, at: "2030-01-15T10:05:00Z", [], evaluator: { _, _ in nil })
        #expect(try db.openFindings(host: "web-01").count == 1)
        #expect(try db.reevaluateFindings(at: Date(), evaluate: { _, _ in nil }) == FindingChanges())
    }

    @Test func tagsGivenAndTakenOverrideTheInventory() throws {
        let db = try HistoryStores.inMemory()
        try db.tag(host: "web-01", "OpenVMS", at: 1, by: "test")
        #expect(try db.tagEdits(host: "web-01") == TagEdits(added: ["OpenVMS"]))
        try Self.ingest(db, 1, at: Self.t0, [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])])
        #expect(try db.openFindings(host: "web-01").isEmpty, "the tag is read inside ingest's transaction")

        try db.untag(host: "vms-01", "openvms", at: 2, by: "test")
        let edits = try db.tagEdits(host: "vms-01")
        #expect(HostTags.resolve(inventory: ["OpenVMS", "nfs-server"], edits: edits) == ["nfs-server"], "a removal beats the inventory, case aside")
        try db.tag(host: "vms-01", "OpenVMS", at: 3, by: "test")
        #expect(try db.tagEdits(host: "vms-01") == TagEdits(added: ["OpenVMS"]), "tag replaces an earlier untag")
        #expect(try db.forgetTag(host: "vms-01", "OPENVMS", at: 4, by: "test"))
        #expect(try db.tagEdits(host: "vms-01") == TagEdits())
        #expect(try db.assignedTags() == ["OpenVMS"])
    }

    @Test func labelsAreKeptPerHostLatest() throws {
        let db = try HistoryStores.inMemory()
        var snapshot = HistoryFixtures.snapshot(1, at: Self.t0, [])
        snapshot.host.labels = ["role": "gateway"]
        _ = try db.ingest(snapshot, host: "web-01", bodyDigest: "a", receivedAt: 1)
        #expect(try db.host(named: "web-01")?.labelMap == ["role": "gateway"])
        snapshot = HistoryFixtures.snapshot(2, at: "2030-01-15T10:05:00Z", [])
        _ = try db.ingest(snapshot, host: "web-01", bodyDigest: "b", receivedAt: 2)
        #expect(try db.host(named: "web-01")?.labelMap == [:])
    }

    @Test func storedListenersKeepUidAndHowTheyWereFound() throws {
        let db = try HistoryStores.inMemory()
        var hidden = HistoryFixtures.listener(557, [HistoryFixtures.vmsd])
        hidden.uid = 1000
        hidden.foundBy = .pidfd
        try Self.ingest(db, 1, at: Self.t0, [hidden])
        let listener = try #require(try db.openListeners(host: "web-01").first).listener
        #expect(listener.uid == 1000 && listener.foundBy == .pidfd && listener.port == 557)
        #expect(listener.processes.map(\.name) == ["vmsd"])
    }
}
