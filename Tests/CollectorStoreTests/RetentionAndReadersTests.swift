import CollectorStore
import Foundation
import PortwardenModel
import Testing

struct RetentionAndReadersTests {
    /// Old receipt runs go; each host's newest stays, because dedupe reads it.
    @Test(arguments: StoreMaker.all) func pruningKeepsEachHostsNewestRun(_ store: StoreMaker) throws {
        let db = try store.make()
        // Three runs for web-01 (each report changes a listener), received at 100, 200, 300.
        for (sequence, port) in [(1, 22), (2, 23), (3, 24)] as [(UInt64, UInt16)] {
            _ = try db.ingest(IngestTests.snapshot(sequence, at: "2026-11-25T10:00:0\(sequence)Z",
                                                   [IngestTests.listener(port, [IngestTests.sshd])]),
                              host: "web-01", bodyDigest: "d\(sequence)", receivedAt: Int64(sequence) * 100)
        }
        #expect(try db.pruneReceipts(receivedBefore: 250) == 2)
        let left = try db.receiptRuns(host: "web-01")
        #expect(left.map(\.lastSequence) == [3])
        // Even when everything is older than the cutoff, the newest run stays.
        #expect(try db.pruneReceipts(receivedBefore: 10_000) == 0)
        // And a redelivery is still recognised.
        let again = try db.ingest(IngestTests.snapshot(3, at: "2026-11-25T10:00:03Z", [IngestTests.listener(24, [IngestTests.sshd])]),
                                  host: "web-01", bodyDigest: "d3", receivedAt: 20_000)
        #expect(again == .duplicate)
    }

    /// A report or export reading a large result does not hold the writer up, and sees
    /// one consistent view meanwhile (SQLite: WAL gives the reader its snapshot while
    /// ingest commits; without it the write would fail SQLITE_BUSY after the 5 s timeout).
    @Test(arguments: StoreMaker.concurrent) func readersDoNotBlockIngest(_ store: StoreMaker) async throws {
        let db = try store.make()
        _ = try await db.ingest(IngestTests.snapshot(1, at: "2026-11-25T10:00:00Z", [IngestTests.listener(22, [IngestTests.sshd])]),
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
        }.start()
        for await _ in entered { break }
        _ = try await db.ingest(IngestTests.snapshot(2, at: "2026-11-25T10:01:00Z",
                                                     [IngestTests.listener(22, [IngestTests.sshd]), IngestTests.listener(557, [IngestTests.vmsd])]),
                                host: "web-01", bodyDigest: "b", receivedAt: 2)
        release.signal()
        var results = finished.makeAsyncIterator()
        #expect(try #require(await results.next()).get() == 1, "the reader kept its own consistent view")
        #expect(try db.openListeners(host: "web-01").count == 2)
    }
}
