import Foundation
import Testing
@testable import CollectorStore
import PortwardenModel
import PortwardenTestSupport

/// History grows with change, not with time.
struct IngestTests {
    /// Every listener interval `host` ever had, oldest first.
    static func intervals(_ db: any HistoryStore, host: String = "web-01") throws -> [ListenerInterval] {
        try db.listenerTimeline(since: .min, host: host).flatMap(\.intervals)
    }

    func counts(_ db: any HistoryStore) throws -> (intervals: Int, runs: Int, open: Int) {
        (try Self.intervals(db).count, try db.receiptRuns(host: "web-01").count, try db.openListeners(host: "web-01").count)
    }

    @Test(arguments: StoreMaker.all) func firstReportOpensAnIntervalPerListener(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let outcome = try await db.ingest(HistoryFixtures.snapshot(1, at: "2026-11-25T10:00:00Z", [HistoryFixtures.listener(22, [HistoryFixtures.sshd]),
                                                                              HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]),
                                    host: "web-01", bodyDigest: "d1", receivedAt: 1)
        #expect(outcome == .changed(opened: 2, closed: 0))
        let open = try db.openListeners(host: "web-01")
        #expect(open.map(\.port) == [22, 557])
        #expect(open[1].owners.contains("\"name\":\"vmsd\""))
        #expect(open[0].opened == 1_795_600_800)
    }

    @Test(arguments: StoreMaker.all) func unchangedReportsAddNoRows(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let listeners = [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]
        _ = try await db.ingest(HistoryFixtures.snapshot(1, at: "2026-11-25T10:00:00Z", listeners), host: "web-01", bodyDigest: "a", receivedAt: 1)
        let before = try counts(db)
        for minute in 1...30 {
            // The daemon restarted with a new pid: still the same listener.
            var restarted = HistoryFixtures.sshd
            restarted.pid = Int32(1000 + minute)
            let outcome = try await db.ingest(HistoryFixtures.snapshot(UInt64(1 + minute), at: "2026-11-25T10:\(String(format: "%02d", minute)):00Z",
                                                      [HistoryFixtures.listener(22, [restarted])]),
                                        host: "web-01", bodyDigest: "b\(minute)", receivedAt: Int64(1 + minute))
            #expect(outcome == .unchanged)
        }
        #expect(try counts(db) == before)
        let run = try #require(try db.receiptRuns(host: "web-01").first)
        #expect(run.reports == 31)
        #expect(run.firstSequence == 1 && run.lastSequence == 31)
        #expect(run.lastBodyDigest == "b30")
    }

    @Test(arguments: StoreMaker.all) func aListenerThatGoesIsClosedAndANewOneOpened(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try await db.ingest(HistoryFixtures.snapshot(1, at: "2026-11-25T10:00:00Z", [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]),
                          host: "web-01", bodyDigest: "a", receivedAt: 1)
        let outcome = try await db.ingest(HistoryFixtures.snapshot(2, at: "2026-11-25T10:01:00Z", [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]),
                                    host: "web-01", bodyDigest: "b", receivedAt: 2)
        #expect(outcome == .changed(opened: 1, closed: 1))
        let closed = try Self.intervals(db).first { $0.port == 22 }
        #expect(closed?.closed == 1_795_600_860)
        #expect(try db.openListeners(host: "web-01").map(\.port) == [557])
        #expect(try counts(db).runs == 2)
    }

    @Test(arguments: StoreMaker.all) func aRedeliveredSnapshotIsAcknowledgedAndIgnored(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let first = HistoryFixtures.snapshot(7, at: "2026-11-25T10:00:00Z", [HistoryFixtures.listener(22, [HistoryFixtures.sshd])])
        _ = try await db.ingest(first, host: "web-01", bodyDigest: "a", receivedAt: 1)
        await #expect(try db.ingest(first, host: "web-01", bodyDigest: "a", receivedAt: 2) == .duplicate)
        await #expect(try db.ingest(HistoryFixtures.snapshot(5, at: "2026-11-25T09:58:00Z", []), host: "web-01", bodyDigest: "x",
                              receivedAt: 3) == .duplicate)
        #expect(try db.openListeners(host: "web-01").count == 1, "an old snapshot closes nothing")
        // After a reboot the boot id differs and a counter that started over is accepted.
        await #expect(try db.ingest(HistoryFixtures.snapshot(1, at: "2026-11-25T11:00:00Z", boot: "boot-2", [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]),
                              host: "web-01", bodyDigest: "c", receivedAt: 4) == .unchanged)
    }

    @Test(arguments: StoreMaker.all) func anIncompleteSnapshotClosesNothing(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try await db.ingest(HistoryFixtures.snapshot(1, at: "2026-11-25T10:00:00Z", [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]),
                          host: "web-01", bodyDigest: "a", receivedAt: 1)
        let outcome = try await db.ingest(HistoryFixtures.snapshot(2, at: "2026-11-25T10:01:00Z", complete: false, []),
                                    host: "web-01", bodyDigest: "b", receivedAt: 2)
        #expect(outcome == .unchanged)
        #expect(try db.openListeners(host: "web-01").map(\.port) == [22])
    }

    @Test(arguments: StoreMaker.all) func hostsGoStaleWhenTheyStopReporting(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try await db.ingest(HistoryFixtures.snapshot(1, at: "2026-11-25T10:00:00Z", []), host: "web-01", bodyDigest: "a", receivedAt: 1_000)
        await #expect(try db.hosts(now: 1_100, staleAfter: 300).map(\.stale) == [false])
        await #expect(try db.hosts(now: 1_400, staleAfter: 300).map(\.stale) == [true])
    }

    @Test(arguments: StoreMaker.all) func aBadTimestampIsRefused(_ store: StoreMaker) async throws {
        let db = try await store.make()
        #expect(throws: ReportRefusal.self) {
            try db.ingest(HistoryFixtures.snapshot(1, at: "yesterday", []), host: "web-01", bodyDigest: "a", receivedAt: 1)
        }
    }
}

/// Listener identities are stored; the owners' part must read as JSONEncoder with sorted
/// keys wrote it before, or every interval would reopen after an upgrade.
@Test func ownerIdentitiesKeepTheirStoredForm() throws {
    let owners = [
        Owner(pid: 2, name: "b\"q\\s/", exe: nil, cmdline: [], uid: 0, user: "root", unit: nil, container: "docker://ab"),
        Owner(pid: 1, name: "a\tb é", exe: "/usr/sbin/a", cmdline: [], uid: 0, user: nil, unit: "a.service", container: nil),
        Owner(pid: 3, name: "a\tb é", exe: "/usr/sbin/a", cmdline: [], uid: 0, user: nil, unit: "a.service", container: nil),
    ]
    let snapshot = Snapshot(
        host: Host(hostname: "h", machineID: nil, bootID: nil, kernel: nil, os: nil), collectedAt: "2026-11-25T10:00:00Z",
        complete: true, ownershipComplete: true, warnings: [], namespaces: [],
        listeners: [Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: 22, scope: .any, netns: 1,
                             hostNetns: true, inode: 1, uid: 0, processes: owners)],
        unresolved: [])
    let stored = try #require(Observation.all(in: snapshot).values.first).owners
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    let identities = Array(Set(owners.map {
        Observation.OwnerIdentity(name: $0.name, exe: $0.exe, user: $0.user, unit: $0.unit, container: $0.container)
    })).sorted()
    #expect(stored == String(decoding: try encoder.encode(identities), as: UTF8.self))
}
