import CollectorStore
import Foundation
import Testing
import PortwardenModel
import PortwardenTestSupport

/// `collected_at` against the collector's clock and the host's history, and the refusals
/// that make a host show as refusing until its next stored report.
struct ReportClockTests {
    static let clock = ReportClock(maxSkew: 300)
    /// 2026-11-25T10:00:00Z
    static let t0: Int64 = 1_795_600_800

    static func time(_ seconds: Int64) -> String { Timestamp.rfc3339(seconds) }

    func ingest(_ db: any HistoryStore, _ sequence: UInt64?, at collected: Int64, received: Int64,
                boot: String = "boot-1") throws -> IngestOutcome {
        try db.ingest(HistoryFixtures.snapshot(sequence, at: Self.time(collected), boot: boot,
                                           [HistoryFixtures.listener(UInt16(1000 + (sequence ?? 0) % 1000), [HistoryFixtures.sshd])]),
                      host: "web-01", bodyDigest: "\(String(describing: sequence))-\(collected)", receivedAt: received,
                      clock: Self.clock)
    }

    @Test func aReportAheadByMoreThanTheSkewIsClockSkewAndSaysBothTimes() throws {
        #expect(throws: Never.self) { try Self.clock.check(collectedAt: Self.t0 + 300, sequence: 1, receivedAt: Self.t0) }
        do {
            try Self.clock.check(collectedAt: Self.t0 + 301, sequence: 1, receivedAt: Self.t0)
            Issue.record("accepted")
        } catch {
            #expect(error.reason == .clockSkew)
            #expect(error.message.contains("clock skew") && error.message.contains("2026-11-25T10:05:01Z")
                    && error.message.contains("2026-11-25T10:00:00Z"), "\(error)")
        }
    }

    @Test func anOldReportWithoutASequenceIsRefused() {
        #expect(throws: Never.self) { try Self.clock.check(collectedAt: Self.t0 - 300, sequence: nil, receivedAt: Self.t0) }
        #expect(throws: Never.self) { try Self.clock.check(collectedAt: Self.t0 - 86_400, sequence: 7, receivedAt: Self.t0) }
        let late = #expect(throws: ReportRefusal.self) { try Self.clock.check(collectedAt: Self.t0 - 301, sequence: nil, receivedAt: Self.t0) }
        #expect(late?.reason == .outOfOrder)
    }

    @Test(arguments: StoreMaker.all) func spooledReportsAreAcceptedLateInSequenceOrderOnly(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let now = Self.t0 + 86_400
        // A day late, in order: each accepted.
        #expect(try ingest(db, 5, at: Self.t0, received: now) == .changed(opened: 1, closed: 0))
        #expect(try ingest(db, 6, at: Self.t0 + 60, received: now) == .changed(opened: 1, closed: 1))
        // Late, after a reboot, but its sequence does not follow: refused, nothing written.
        let reboot = #expect(throws: ReportRefusal.self) { try ingest(db, 6, at: Self.t0 + 120, received: now, boot: "boot-2") }
        #expect(reboot?.reason == .outOfOrder && reboot?.message.contains("sequence order") == true)
        // The same boot and an old sequence is still a redelivery, acknowledged.
        #expect(try ingest(db, 6, at: Self.t0 + 60, received: now) == .duplicate)
        // Older than what is stored by more than the skew: refused, fresh or not.
        let older = #expect(throws: ReportRefusal.self) { try ingest(db, 7, at: Self.t0 - 241, received: now) }
        #expect(older?.reason == .outOfOrder && older?.message.contains("newest stored report") == true)
        // Within the skew (a fast clock set right): stored at the newest time, so nothing
        // closes before it opened.
        #expect(try ingest(db, 7, at: Self.t0 - 240, received: now) == .changed(opened: 1, closed: 1))
        #expect(try db.openListeners(host: "web-01").map(\.opened) == [Self.t0 + 60])
        #expect(try ingest(db, 8, at: now - 10, received: now - 5) == .changed(opened: 1, closed: 1))
        #expect(try ingest(db, nil, at: now, received: now) != .duplicate, "fresh reports need no sequence")
        let host = try await #require(try db.hosts(now: now, staleAfter: 900).first?.host)
        #expect(host.lastSeen == now && host.lastSequence == 8)
    }

    @Test(arguments: StoreMaker.all) func aTimeStoredFromTheFutureBeforeClocksWereCheckedGivesWay(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let future = Self.t0 + 5 * 365 * 86_400
        _ = try await db.ingest(HistoryFixtures.snapshot(1, at: Self.time(future), [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]),
                          host: "web-01", bodyDigest: "a", receivedAt: Self.t0)  // no clock: as before v5
        #expect(try ingest(db, 2, at: Self.t0, received: Self.t0) != .duplicate)
        await #expect(try db.hosts(now: Self.t0, staleAfter: 900).first?.host.lastSeen == Self.t0)
    }

    @Test(arguments: StoreMaker.all) func aSequencePastInt64IsRefusedNotATrap(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let huge = #expect(throws: ReportRefusal.self) { try ingest(db, UInt64(Int64.max) + 1, at: Self.t0, received: Self.t0) }
        #expect(huge?.reason == .badRequest)
        #expect(try ingest(db, UInt64(Int64.max), at: Self.t0, received: Self.t0) == .changed(opened: 1, closed: 0))
        await #expect(try db.hosts(now: Self.t0, staleAfter: 900).first?.host.lastSequence == Int64.max)
    }

    @Test(arguments: StoreMaker.all) func aRefusedHostIsRefusingUntilItsNextStoredReport(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let skew = HostRefusal(hostName: "web-01", reason: .clockSkew, message: "clock skew: …", at: Self.t0)
        try db.record(refusals: [skew, HostRefusal(hostName: "db-01", reason: .badRequest, message: "m", at: Self.t0)])
        // Never stored: refusing all the same, and counted.
        #expect(try db.currentRefusals().keys.sorted() == ["db-01", "web-01"])
        #expect(try db.hostCounts(now: Self.t0, staleAfter: 900) == (all: 2, stale: 0, refusing: 2))
        #expect(HostState(host: nil, refusal: skew, now: Self.t0, staleAfter: 900).text == "refusing: clock skew")

        // Still refusing: one run of refusals, counted from the first.
        var again = skew
        again.lastRefused = Self.t0 + 60
        again.refusals = 3
        try db.record(refusals: [again])
        var row = try #require(try db.currentRefusals()["web-01"])
        #expect(row.firstRefused == Self.t0 && row.lastRefused == Self.t0 + 60 && row.refusals == 4)

        // A stored report ends it.
        #expect(try ingest(db, 1, at: Self.t0 + 120, received: Self.t0 + 120) != .duplicate)
        #expect(try db.currentRefusals().keys.sorted() == ["db-01"])
        #expect(try db.hostCounts(now: Self.t0 + 120, staleAfter: 900) == (all: 2, stale: 0, refusing: 1))
        let host = try await #require(try db.hosts(now: Self.t0 + 120, staleAfter: 900).first?.host)
        #expect(HostState(host: host, refusal: try db.currentRefusals()["web-01"], now: Self.t0 + 120, staleAfter: 900)
                == .reporting)
        #expect(HostState(host: host, refusal: nil, now: Self.t0 + 2_000, staleAfter: 900) == .stale)

        // Refused again: a new run.
        try db.record(refusals: [HostRefusal(hostName: "web-01", reason: .outOfOrder, message: "late", at: Self.t0 + 120)])
        row = try #require(try db.currentRefusals()["web-01"])
        #expect(row.reason == .outOfOrder && row.firstRefused == Self.t0 + 120 && row.refusals == 1)
        // Refusing wins over stale.
        #expect(try db.hostCounts(now: Self.t0 + 5_000, staleAfter: 900) == (all: 2, stale: 0, refusing: 2))
    }

    /// In one transaction, a refusal and a stored report take effect in the order they came.
    @Test(arguments: StoreMaker.all) func refusalsAndReportsOfABatchTakeEffectInOrder(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let refusal = HostRefusal(hostName: "web-01", reason: .badRequest, message: "m", at: Self.t0)
        let report = IngestRequest(HistoryFixtures.snapshot(1, at: Self.time(Self.t0), [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]),
                                   host: "web-01", bodyDigest: "a", receivedAt: Self.t0)
        _ = try db.ingest([report], refusals: [(before: 0, refusal: refusal)], findings: nil, clock: nil)
        #expect(try db.currentRefusals().isEmpty, "refused, then a report stored: reporting")
        let next = IngestRequest(HistoryFixtures.snapshot(2, at: Self.time(Self.t0), [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]),
                                 host: "web-01", bodyDigest: "a", receivedAt: Self.t0)
        _ = try db.ingest([next], refusals: [(before: 1, refusal: refusal)], findings: nil, clock: nil)
        #expect(try db.currentRefusals().keys.sorted() == ["web-01"], "a report stored, then one refused: refusing")
        _ = try db.ingest([next], refusals: [], findings: nil, clock: nil)
        #expect(try db.currentRefusals().keys.sorted() == ["web-01"], "a redelivery stores nothing and clears nothing")
    }

    @Test func aRefusalsMessageIsBounded() {
        let long = HostRefusal(hostName: "h", reason: .badRequest, message: String(repeating: "é", count: 4_000), at: 0)
        #expect(long.message.utf8.count <= HostRefusal.messageBytes && long.message.utf8.count > HostRefusal.messageBytes - 2)
    }
}
