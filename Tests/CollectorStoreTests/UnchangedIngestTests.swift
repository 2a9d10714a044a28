import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Synchronization
import Testing

/// Unchanged reports: a digest instead of the listeners, stored as the full snapshot would
/// have been — or, when the store does not hold that state for the host, nothing written
/// and `stateUnknown` (the agent then sends the snapshot in full).
struct UnchangedIngestTests {
    static let clock = ReportClock(maxSkew: 300)
    static let t0: Int64 = 1_795_600_800  // 2026-11-25T10:00:00Z
    static let state = String(repeating: "5a", count: 32)
    static let listeners = [HistoryFixtures.listener(22, [HistoryFixtures.sshd]), HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]

    /// The full snapshot, `sequence`, `minutes` after t0, kept as `state`.
    func full(_ db: any HistoryStore, _ sequence: UInt64, minutes: Int64 = 0, state: String = Self.state,
              host: String = "web-01", under stamp: EvaluationStamp? = nil, findings: FindingEvaluator? = nil) async throws -> IngestOutcome {
        let snapshot = HistoryFixtures.snapshot(sequence, at: Timestamp.rfc3339(Self.t0 + 60 * minutes), host: host, Self.listeners)
        var request = IngestRequest(snapshot, host: host, bodyDigest: "full-\(sequence)", receivedAt: Self.t0 + 60 * minutes,
                                    stateDigest: state)
        request.evaluatedUnder = stamp
        return try await db.ingest(request, findings: findings, clock: Self.clock)
    }

    func unchanged(_ db: any HistoryStore, _ sequence: UInt64, minutes: Int64, state: String = Self.state, boot: String = "boot-1",
                   host: String = "web-01", received: Int64? = nil, under stamp: EvaluationStamp? = nil) async throws -> IngestOutcome {
        let report = UnchangedReport(hostname: host, bootID: boot, sequence: sequence, collectedAt: Timestamp.rfc3339(Self.t0 + 60 * minutes),
                                     stateDigest: state, warnings: ["one warning"])
        var request = IngestRequest(unchanged: report, host: host, bodyDigest: "small-\(sequence)",
                                    receivedAt: received ?? Self.t0 + 60 * minutes)
        request.evaluatedUnder = stamp
        return try await db.ingest(request, findings: nil, clock: Self.clock)
    }

    @Test(arguments: StoreMaker.all) func anUnchangedReportMovesTheHostsTimesAndReceiptsOnly(_ store: StoreMaker) async throws {
        let db = try await store.make()
        #expect(try await full(db, 1) == .changed(opened: 2, closed: 0))
        #expect(try db.host(named: "web-01")?.stateDigest == Self.state)
        for minute in 1...5 {
            #expect(try await unchanged(db, UInt64(1 + minute), minutes: Int64(minute)) == .unchanged)
        }
        let host = try #require(try db.host(named: "web-01"))
        #expect(host.lastSeen == Self.t0 + 300 && host.lastReceived == Self.t0 + 300 && host.lastSequence == 6)
        let runs = try db.receiptRuns(host: "web-01")
        #expect(runs.count == 1)
        #expect(runs.first?.reports == 6 && runs.first?.lastSequence == 6 && runs.first?.lastBodyDigest == "small-6",
                "every report is in the receipts")
        #expect(try db.openListeners(host: "web-01").map(\.port) == [22, 557])
        #expect(try IngestTests.intervals(db).count == 2, "no listener row written")
    }

    @Test(arguments: StoreMaker.all) func aRedeliveredUnchangedReportIsADuplicate(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try await full(db, 1)
        #expect(try await unchanged(db, 2, minutes: 1) == .unchanged)
        #expect(try await unchanged(db, 2, minutes: 1) == .duplicate)
        // Even once the state moved on: it was acknowledged, the agent must not send it in full.
        _ = try await full(db, 3, minutes: 2, state: String(repeating: "6b", count: 32))
        #expect(try await unchanged(db, 2, minutes: 1) == .duplicate)
        #expect(try db.receiptRuns(host: "web-01").map(\.reports).reduce(0, +) == 3)
    }

    @Test(arguments: StoreMaker.all) func aStateTheStoreDoesNotHoldWritesNothing(_ store: StoreMaker) async throws {
        let db = try await store.make()
        // A host the store has never seen (a restored database, another collector's).
        #expect(try await unchanged(db, 1, minutes: 0) == .stateUnknown)
        #expect(try db.host(named: "web-01") == nil)
        _ = try await full(db, 1)
        let before = try db.host(named: "web-01")
        // Another state than the one stored, or another host's.
        #expect(try await unchanged(db, 2, minutes: 1, state: String(repeating: "00", count: 32)) == .stateUnknown)
        _ = try await full(db, 1, state: String(repeating: "77", count: 32), host: "db-01")
        #expect(try await unchanged(db, 2, minutes: 1, state: String(repeating: "77", count: 32)) == .stateUnknown)
        #expect(try db.host(named: "web-01") == before)
        #expect(try db.receiptRuns(host: "web-01").map(\.reports) == [1])
        // The full snapshot that follows is stored as ever, and its state kept.
        let next = HistoryFixtures.snapshot(2, at: Timestamp.rfc3339(Self.t0 + 60), Self.listeners)
        #expect(try await db.ingest(IngestRequest(next, host: "web-01", bodyDigest: "full-2", receivedAt: Self.t0 + 60,
                                                  stateDigest: Self.state), findings: nil, clock: Self.clock) == .unchanged)
        #expect(try await unchanged(db, 3, minutes: 2) == .unchanged)
    }

    @Test(arguments: StoreMaker.all) func aSnapshotStoredWithoutItsStateIsNeverUnchanged(_ store: StoreMaker) async throws {
        let db = try await store.make()
        // An older agent's report: the collector computes the digest; a store given none keeps none.
        _ = try await db.ingest(HistoryFixtures.snapshot(1, at: Timestamp.rfc3339(Self.t0), Self.listeners), host: "web-01",
                                bodyDigest: "full-1", receivedAt: Self.t0)
        #expect(try db.host(named: "web-01")?.stateDigest == nil)
        #expect(try await unchanged(db, 2, minutes: 1) == .stateUnknown)
        _ = try await full(db, 3, minutes: 2)
        _ = try await db.ingest(HistoryFixtures.snapshot(4, at: Timestamp.rfc3339(Self.t0 + 180), Self.listeners), host: "web-01",
                                bodyDigest: "full-4", receivedAt: Self.t0 + 180)
        #expect(try await unchanged(db, 5, minutes: 4) == .stateUnknown, "the newest snapshot's state, not an older one's")
    }

    @Test(arguments: StoreMaker.all) func editingAHostsTagsOrForgettingItAsksForTheFullSnapshot(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try await full(db, 1)
        // Its findings may differ now: only a full report is evaluated.
        try db.tag(host: "web-01", "pci", at: Self.t0 + 10, by: "alice")
        #expect(try await unchanged(db, 2, minutes: 1) == .stateUnknown)
        _ = try await full(db, 3, minutes: 2)
        try db.untag(host: "web-01", "pci", at: Self.t0 + 130, by: "alice")
        #expect(try await unchanged(db, 4, minutes: 3) == .stateUnknown)
        _ = try await full(db, 5, minutes: 4)
        #expect(try db.forgetTag(host: "web-01", "pci", at: Self.t0 + 250, by: "alice"))
        #expect(try await unchanged(db, 6, minutes: 5) == .stateUnknown)
        _ = try await full(db, 7, minutes: 6)
        // Forgotten: nothing it still sends unchanged is kept.
        _ = try db.retire(host: "web-01", at: Self.t0 + 370, by: "alice", reason: "decommissioned")
        #expect(try await unchanged(db, 8, minutes: 7) == .stateUnknown)
        #expect(try db.host(named: "web-01")?.retiredAt != nil)
    }

    @Test(arguments: StoreMaker.all) func anUnchangedReportIsHeldToTheClockAndOrderAsAnyOther(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try await full(db, 1)
        // Late, and not following the stored sequence. (Ahead of the collector's clock is
        // refused before the store, as for a full report: ReportTests.)
        _ = try await unchanged(db, 5, minutes: 1)
        let late = await #expect(throws: ReportRefusal.self) {
            try await unchanged(db, 3, minutes: 2, boot: "boot-2", received: Self.t0 + 3600)
        }
        #expect(late?.reason == .outOfOrder)
        // A new boot with the same state: stored, in a run of its own.
        #expect(try await unchanged(db, 6, minutes: 3, boot: "boot-2") == .unchanged)
        #expect(try db.receiptRuns(host: "web-01").map(\.bootID) == ["boot-1", "boot-2"])
        #expect(try db.host(named: "web-01")?.bootID == "boot-2")
    }

    /// A host is unchanged only while the policy its findings were evaluated under is in
    /// force and none of its waivers has lapsed since: otherwise its report comes in full.
    @Test(arguments: StoreMaker.all) func aNewPolicyOrALapsedWaiverAsksForTheFullSnapshot(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let p1 = EvaluationStamp(policy: "p1", until: Self.t0 + 600), p2 = EvaluationStamp(policy: "p2", until: nil)
        _ = try await full(db, 1, under: p1)
        #expect(try await unchanged(db, 2, minutes: 1, under: p1) == .unchanged)
        // A reload whose re-evaluation of the fleet never ran (or failed): p2 is in force.
        #expect(try await unchanged(db, 3, minutes: 2, under: p2) == .stateUnknown)
        // No policy at all is a policy of its own.
        #expect(try await unchanged(db, 3, minutes: 2, under: nil) == .stateUnknown)
        // The waiver lapses at t0 + 600: from then on p1's evaluation is stale.
        #expect(try await unchanged(db, 3, minutes: 9, under: p1) == .unchanged)
        #expect(try await unchanged(db, 4, minutes: 10, under: p1) == .stateUnknown)
        // The fleet re-evaluated under p2 (the collector's tick): unchanged again.
        _ = try db.reevaluateFindings(at: Date(timeIntervalSince1970: TimeInterval(Self.t0 + 660)), evaluate: { _, _ in FindingUpdate() },
                                      stamp: p2)
        #expect(try await unchanged(db, 4, minutes: 11, under: p2) == .unchanged)
        // A tool's re-evaluation without a stamp: the next report in full.
        _ = try db.reevaluateFindings(at: Date(timeIntervalSince1970: TimeInterval(Self.t0 + 720)), evaluate: { _, _ in FindingUpdate() })
        #expect(try await unchanged(db, 5, minutes: 12, under: p2) == .stateUnknown)
        #expect(try await full(db, 5, minutes: 12, under: p2) == .unchanged)
        #expect(try await unchanged(db, 6, minutes: 13, under: p2) == .unchanged)
    }

    /// An agent that lost what it acknowledged (or one of an earlier release) sends the
    /// state the host holds in full: stored as its unchanged report would be — times and
    /// receipts moved, no listener row, nothing evaluated — and a changed state, another
    /// policy or a forgotten state still goes the whole way.
    @Test(arguments: StoreMaker.all) func aFullSnapshotOfTheHeldStateIsStoredAsItsUnchangedReport(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let evaluations = Mutex(0)
        let counting: FindingEvaluator = { _, _ in evaluations.withLock { $0 += 1 }; return FindingUpdate() }
        let p1 = EvaluationStamp(policy: "p1", until: nil), p2 = EvaluationStamp(policy: "p2", until: nil)
        #expect(try await full(db, 1, under: p1, findings: counting) == .changed(opened: 2, closed: 0))
        #expect(evaluations.withLock { $0 } == 1)
        #expect(try await full(db, 2, minutes: 1, under: p1, findings: counting) == .unchanged)
        #expect(try await full(db, 3, minutes: 2, under: p1, findings: counting) == .unchanged)
        #expect(evaluations.withLock { $0 } == 1, "the held state is not evaluated again")
        let host = try #require(try db.host(named: "web-01"))
        #expect(host.lastSeen == Self.t0 + 120 && host.lastSequence == 3 && host.stateSequence == 3 && host.stateDigest == Self.state)
        let runs = try db.receiptRuns(host: "web-01")
        #expect(runs.count == 1 && runs.first?.reports == 3 && runs.first?.lastBodyDigest == "full-3")
        #expect(try IngestTests.intervals(db).count == 2, "no listener row written")
        #expect(try await full(db, 3, minutes: 2, under: p1, findings: counting) == .duplicate)
        #expect(try await unchanged(db, 4, minutes: 3, under: p1) == .unchanged, "the state is still held")

        // Under another policy the snapshot is evaluated again, and so is it once the tags moved.
        #expect(try await full(db, 5, minutes: 4, under: p2, findings: counting) == .unchanged)
        #expect(evaluations.withLock { $0 } == 2)
        try db.tag(host: "web-01", "pci", at: Self.t0 + 290, by: "test")
        #expect(try await full(db, 6, minutes: 5, under: p2, findings: counting) == .unchanged)
        #expect(evaluations.withLock { $0 } == 3)
        // Another state is stored in full.
        #expect(try await full(db, 7, minutes: 6, state: String(repeating: "6b", count: 32), under: p2, findings: counting) == .unchanged)
        #expect(evaluations.withLock { $0 } == 4)
    }
}
