import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing

struct RetentionAndReadersTests {
    /// Old receipt runs go; each host's newest stays, because dedupe reads it.
    @Test(arguments: StoreMaker.all) func pruningKeepsEachHostsNewestRun(_ store: StoreMaker) async throws {
        let db = try await store.make()
        // Three runs for web-01 (each report changes a listener), received at 100, 200, 300.
        for (sequence, port) in [(1, 22), (2, 23), (3, 24)] as [(UInt64, UInt16)] {
            _ = try await db.ingest(HistoryFixtures.snapshot(sequence, at: "2026-11-25T10:00:0\(sequence)Z",
                                                   [HistoryFixtures.listener(port, [HistoryFixtures.sshd])]),
                              host: "web-01", bodyDigest: "d\(sequence)", receivedAt: Int64(sequence) * 100)
        }
        #expect(try db.pruneReceipts(receivedBefore: 250) == 2)
        let left = try db.receiptRuns(host: "web-01")
        #expect(left.map(\.lastSequence) == [3])
        // Even when everything is older than the cutoff, the newest run stays.
        #expect(try db.pruneReceipts(receivedBefore: 10_000) == 0)
        // And a redelivery is still recognised.
        let again = try await db.ingest(HistoryFixtures.snapshot(3, at: "2026-11-25T10:00:03Z", [HistoryFixtures.listener(24, [HistoryFixtures.sshd])]),
                                  host: "web-01", bodyDigest: "d3", receivedAt: 20_000)
        #expect(again == .duplicate)
    }

    /// A report or export reading a large result does not hold the writer up, and sees
    /// one consistent view meanwhile (SQLite: WAL gives the reader its snapshot while
    /// ingest commits; without it the write would fail SQLITE_BUSY after the 5 s timeout).
    @Test(arguments: StoreMaker.concurrent) func readersDoNotBlockIngest(_ store: StoreMaker) async throws {
        let db = try await store.make()
        _ = try await db.ingest(HistoryFixtures.snapshot(1, at: "2026-11-25T10:00:00Z", [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]),
                                host: "web-01", bodyDigest: "a", receivedAt: 1)
        let (entered, enter) = AsyncStream<Void>.makeStream()
        let (finished, finish) = AsyncStream<Result<Int, any Error>>.makeStream()
        let release = DispatchSemaphore(value: 0)
        // The reader holds its walk open, on a thread of its own, until released below.
        Thread {
            finish.yield(Result {
                var seen = 0
                try db.forEachListenerInterval(since: .min, until: .max) { _, _ in
                    seen += 1
                    if seen == 1 {
                        enter.yield()
                        release.wait()
                    }
                }
                return seen
            })
            // A reader that failed before its first row must fail the test, not hang it.
            enter.finish()
        }.start()
        for await _ in entered { break }
        _ = try await db.ingest(HistoryFixtures.snapshot(2, at: "2026-11-25T10:01:00Z",
                                                     [HistoryFixtures.listener(22, [HistoryFixtures.sshd]), HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]),
                                host: "web-01", bodyDigest: "b", receivedAt: 2)
        release.signal()
        var results = finished.makeAsyncIterator()
        #expect(try #require(await results.next()).get() == 1, "the reader kept its own consistent view")
        #expect(try db.openListeners(host: "web-01").count == 2)
    }

    /// Every field of every history record comes back as it was written: the records are
    /// mapped column by column, and a column left out of a mapping shows here.
    @Test(arguments: StoreMaker.all) func importedHistoryReadsBackAsWritten(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let owner = Owner(pid: 7, name: "vmsd", exe: "/opt/vms/bin/vmsd", cmdline: ["vmsd", "--port", "557"], uid: 1000,
                          user: "vms", unit: "vms.service", container: "docker://ab")
        var listener = Listener(transport: .udp, family: .ipv6, address: "fd00::1", port: 557, scope: .specific, netns: 4026532000,
                                hostNetns: false, inode: 9, uid: 1000, processes: [owner])
        listener.foundBy = .pidfd
        let host = HostRecord(name: "vms-01", machineID: "m", bootID: "b", kernel: "6.1", os: "Debian", firstSeen: 10, lastSeen: 20,
                              lastReceived: 21, lastSequence: 5, complete: false, labels: #"{"role":"vms"}"#)
        let interval = ListenerInterval(listener, opened: 10, closed: 20)
        let run = ReceiptRun(bootID: "b", firstSequence: 1, lastSequence: 5, lastBodyDigest: "d", firstCollected: 10, lastCollected: 20,
                             lastReceived: 21, reports: 5)
        let finding = FindingInterval(ObservedFinding(identity: "openvms \(listener.port)", rule: "openvms", severity: "high", listener: listener,
                                                      waiver: "openvms on vms-* until 2030-01-31", policyVersion: "v9"),
                                      opened: 10, closed: nil)
        try db.importHistory([HostHistory(host: host, listeners: [interval], runs: [run], findings: [finding])])

        let stored = try #require(try db.host(named: "vms-01"))
        var expectedHost = host
        expectedHost.id = stored.id
        #expect(stored == expectedHost)
        func same<Record: Equatable>(_ read: [Record], _ written: Record, _ ids: (inout Record, Record) -> Void) {
            guard read.count == 1 else { Issue.record("\(read)"); return }
            var expected = written
            ids(&expected, read[0])
            #expect(read[0] == expected)
        }
        same(try IngestTests.intervals(db, host: "vms-01"), interval) { $0.id = $1.id; $0.hostId = $1.hostId }
        same(try db.receiptRuns(host: "vms-01"), run) { $0.id = $1.id; $0.hostId = $1.hostId }
        same(try db.findingHistory(host: "vms-01"), finding) { $0.id = $1.id; $0.hostId = $1.hostId }
        #expect(try db.findingHistory(host: "vms-01").first?.owners.contains("--port") == true, "a finding keeps command lines")
    }
}
