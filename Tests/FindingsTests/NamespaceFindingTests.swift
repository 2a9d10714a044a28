import CollectorStore
import Findings
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Findings follow their listeners per network namespace: one gone from a namespace read
/// in full resolves though the snapshot is incomplete elsewhere; one in a namespace not
/// read stays open; and ingest agrees with re-evaluating what the history holds.
struct NamespaceFindingTests {
    static let hostNs: UInt64 = 4026531840, containerNs: UInt64 = 4026532500
    static let t1 = "2030-01-15T10:00:00Z", t2 = "2030-01-15T10:01:00Z"

    static func inContainer(_ port: UInt16, _ owners: [Owner]) -> Listener {
        var listener = HistoryFixtures.listener(port, owners)
        listener.netns = containerNs
        listener.hostNetns = false
        return listener
    }

    static func ingest(_ db: any HistoryStore, _ sequence: UInt64, at time: String, complete: Bool = false,
                       ownershipComplete: Bool = true, readInFull: [UInt64]?, _ listeners: [Listener],
                       evaluator: @escaping FindingEvaluator = FindingIntervalTests.evaluator()) throws {
        var snapshot = HistoryFixtures.snapshot(sequence, at: time, complete: complete, listeners)
        snapshot.completeNamespaces = readInFull
        snapshot.ownershipComplete = ownershipComplete
        _ = try db.ingest(snapshot, host: "web-01", bodyDigest: "d\(sequence)", receivedAt: Int64(sequence), findings: evaluator)
    }

    func open(_ db: any HistoryStore) throws -> [UInt64] {
        try db.openFindings(host: "web-01").map { UInt64(bitPattern: $0.netns) }.sorted()
    }

    @Test func aFindingGoneFromANamespaceReadInFullResolvesOnlyThere() throws {
        let db = try HistoryStores.inMemory()
        try Self.ingest(db, 1, at: Self.t1, complete: true, readInFull: [Self.hostNs, Self.containerNs],
                        [HistoryFixtures.listener(557, [HistoryFixtures.vmsd]), Self.inContainer(557, [HistoryFixtures.vmsd])])
        #expect(try open(db) == [Self.hostNs, Self.containerNs])
        // Both stopped; only the host's namespace could be read in full.
        try Self.ingest(db, 2, at: Self.t2, readInFull: [Self.hostNs], [])
        #expect(try open(db) == [Self.containerNs])
        let resolved = try db.findingHistory(host: "web-01").filter { $0.closed != nil }
        #expect(resolved.map(\.netns) == [Int64(Self.hostNs)] && resolved.map(\.closed) == [1_894_701_660])
        // What re-evaluation finds in the history is what ingest decided.
        #expect(try db.reevaluateFindings(at: Date(timeIntervalSince1970: 1_894_701_700),
                                          evaluate: FindingIntervalTests.evaluator()) == FindingChanges())
    }

    @Test func anOlderAgentsIncompleteReportResolvesNothing() throws {
        let db = try HistoryStores.inMemory()
        try Self.ingest(db, 1, at: Self.t1, complete: true, readInFull: nil, [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])])
        try Self.ingest(db, 2, at: Self.t2, readInFull: nil, [])
        #expect(try open(db) == [Self.hostNs])
    }

    /// Port 557 is a finding unless vmsd holds it: a rule that reads owners.
    static let unlessVmsd: FindingEvaluator = { subject, open in
        let produced = subject.listeners.filter { $0.port == 557 && !$0.processes.contains { $0.name == "vmsd" } }.map {
            ObservedFinding(identity: ObservedFinding.identity(rule: "557-not-vmsd", listener: $0, waiver: nil), rule: "557-not-vmsd",
                            severity: "critical", listener: $0, waiver: nil, policyVersion: "v1")
        }
        let (opening, resolving) = FindingDelta.between(produced: produced, open: open, complete: subject.complete)
        return FindingUpdate(open: opening, resolve: resolving)
    }

    @Test func ownersNotSeenAreEvaluatedAsLastKnownAtIngestAsOnReevaluation() throws {
        let db = try HistoryStores.inMemory()
        try Self.ingest(db, 1, at: Self.t1, complete: true, readInFull: [Self.hostNs],
                        [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])], evaluator: Self.unlessVmsd)
        #expect(try open(db) == [])
        // vmsd's descriptors became unreadable: its socket is shown without owners.
        try Self.ingest(db, 2, at: Self.t2, ownershipComplete: false, readInFull: [Self.hostNs],
                        [HistoryFixtures.listener(557, [])], evaluator: Self.unlessVmsd)
        #expect(try open(db) == [], "the last known owner is vmsd: no finding for an owner no one saw")
        #expect(try db.reevaluateFindings(at: Date(timeIntervalSince1970: 1_894_701_700), evaluate: Self.unlessVmsd) == FindingChanges())
    }
}
