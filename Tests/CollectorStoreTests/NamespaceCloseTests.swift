import Foundation
import Testing
@testable import CollectorStore
import PortwardenModel
import PortwardenTestSupport

/// A namespace a report read in full is authoritative about the listeners in it, however
/// incomplete the report is elsewhere (docs/wire-format.md, "Completeness").
struct NamespaceCloseTests {
    static let hostNs: UInt64 = 4026531840, containerNs: UInt64 = 4026532500
    static let t1 = "2026-11-25T10:00:00Z", t2 = "2026-11-25T10:01:00Z", t3 = "2026-11-25T10:02:00Z"
    static let t2Seconds: Int64 = 1_795_600_860

    static func inContainer(_ port: UInt16, _ owners: [Owner]) -> Listener {
        var listener = HistoryFixtures.listener(port, owners)
        listener.netns = containerNs
        listener.hostNetns = false
        return listener
    }

    /// A report that says which namespaces it read in full; incomplete elsewhere unless `complete`.
    static func snapshot(_ sequence: UInt64, at time: String, host: String = "web-01", complete: Bool = false,
                         ownershipComplete: Bool = true, readInFull: [UInt64]?, _ listeners: [Listener]) -> Snapshot {
        var snapshot = HistoryFixtures.snapshot(sequence, at: time, host: host, complete: complete, listeners)
        snapshot.completeNamespaces = readInFull
        snapshot.ownershipComplete = ownershipComplete
        return snapshot
    }

    func ingest(_ db: any HistoryStore, _ snapshot: Snapshot, host: String = "web-01") throws -> IngestOutcome {
        try db.ingest(snapshot, host: host, bodyDigest: "d\(snapshot.sequence ?? 0)", receivedAt: Int64(snapshot.sequence ?? 0))
    }

    func open(_ db: any HistoryStore, host: String = "web-01") throws -> [String] {
        try db.openListeners(host: host).map { "\($0.port)" + ($0.unseenSince == nil ? "" : " unseen") }
    }

    @Test(arguments: StoreMaker.all) func whatIsGoneFromANamespaceReadInFullClosesElsewhereItStaysOpenUnseen(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try ingest(db, Self.snapshot(1, at: Self.t1, complete: true, readInFull: [Self.hostNs, Self.containerNs],
                                         [HistoryFixtures.listener(557, [HistoryFixtures.vmsd]), Self.inContainer(55, [])]))
        // Something hid the container's namespace; the host's was read in full without 557.
        #expect(try ingest(db, Self.snapshot(2, at: Self.t2, readInFull: [Self.hostNs], [])) == .changed(opened: 0, closed: 1))
        #expect(try open(db) == ["55 unseen"])
        #expect(try db.openListeners(host: "web-01").first?.unseenSince == Self.t2Seconds)
        #expect(try IngestTests.intervals(db).first { $0.port == 557 }?.closed == Self.t2Seconds)
        // Seen again: known again.
        _ = try ingest(db, Self.snapshot(3, at: Self.t3, readInFull: [Self.hostNs], [Self.inContainer(55, [])]))
        #expect(try open(db) == ["55"])
    }

    @Test(arguments: StoreMaker.all) func anOlderAgentsIncompleteReportClosesNothingAndMarksNothing(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try ingest(db, Self.snapshot(1, at: Self.t1, complete: true, readInFull: nil,
                                         [HistoryFixtures.listener(557, [HistoryFixtures.vmsd]), Self.inContainer(55, [])]))
        #expect(try ingest(db, Self.snapshot(2, at: Self.t2, readInFull: nil, [])) == .unchanged)
        #expect(try open(db) == ["55", "557"])
        // Not even an empty list closes anything: only the namespaces listed.
        #expect(try ingest(db, Self.snapshot(3, at: Self.t3, readInFull: [], [])) == .unchanged)
        #expect(try open(db) == ["55 unseen", "557 unseen"])
    }

    @Test(arguments: StoreMaker.all) func ownersNotSeenStayAsLastKnownNotNone(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try ingest(db, Self.snapshot(1, at: Self.t1, complete: true, readInFull: [Self.hostNs],
                                         [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]))
        // Its holder's descriptors could not be read: the socket is there, its owners unseen.
        var unowned = HistoryFixtures.listener(557, [])
        unowned.ownerNote = "owner not visible: the descriptors of 1 processes could not be read (permission denied)"
        #expect(try ingest(db, Self.snapshot(2, at: Self.t2, ownershipComplete: false, readInFull: [Self.hostNs], [unowned]))
                == .unchanged)
        let held = try #require(try db.openListeners(host: "web-01").first)
        #expect(try IngestTests.intervals(db).count == 1)
        #expect(held.owners.contains("\"name\":\"vmsd\""))
        #expect(held.ownersUnseenSince == Self.t2Seconds && held.unseenSince == nil)
        // Owners seen again: no longer only last known.
        _ = try ingest(db, Self.snapshot(3, at: Self.t3, ownershipComplete: true, readInFull: [Self.hostNs],
                                         [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]))
        #expect(try db.openListeners(host: "web-01").map(\.ownersUnseenSince) == [nil])
        #expect(try IngestTests.intervals(db).count == 1)
    }

    @Test(arguments: StoreMaker.all) func aListenerThatNeverHadOwnersIsStillANewListener(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try ingest(db, Self.snapshot(1, at: Self.t1, complete: true, readInFull: [Self.hostNs],
                                         [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]))
        // Another port, no owners seen: nothing to keep, and 557 is gone from a namespace read in full.
        #expect(try ingest(db, Self.snapshot(2, at: Self.t2, ownershipComplete: false, readInFull: [Self.hostNs],
                                             [HistoryFixtures.listener(558, [])])) == .changed(opened: 1, closed: 1))
        let open = try db.openListeners(host: "web-01")
        #expect(open.map(\.port) == [558] && open[0].owners == "[]" && open[0].ownersUnseenSince == nil)
    }

    /// A hostile agent may claim a namespace it did not read: it closes only its own host's intervals.
    @Test(arguments: StoreMaker.all) func aClaimedNamespaceClosesOnlyItsOwnHostsIntervals(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try ingest(db, Self.snapshot(1, at: Self.t1, host: "web-02", complete: true, readInFull: [Self.containerNs],
                                         [Self.inContainer(55, [])]), host: "web-02")
        _ = try ingest(db, Self.snapshot(1, at: Self.t1, complete: true, readInFull: [Self.containerNs], [Self.inContainer(55, [])]))
        _ = try ingest(db, Self.snapshot(2, at: Self.t2, readInFull: [Self.hostNs, Self.containerNs, 0, UInt64(Int64.max)], []))
        #expect(try open(db) == [])
        #expect(try open(db, host: "web-02") == ["55"])
    }
}
