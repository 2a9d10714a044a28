import Foundation
import GRDB
import PortwardenModel
import Testing
@testable import CollectorStore

struct RetentionAndReadersTests {
    /// Old receipt runs go; each host's newest stays, because dedupe reads it.
    @Test func pruningKeepsEachHostsNewestRun() throws {
        let db = try CollectorDatabase.inMemory()
        // Three runs for web-01 (each report changes a listener), received at 100, 200, 300.
        for (sequence, port) in [(1, 22), (2, 23), (3, 24)] as [(UInt64, UInt16)] {
            _ = try db.ingest(IngestTests.snapshot(sequence, at: "2026-11-25T10:00:0\(sequence)Z",
                                                   [IngestTests.listener(port, [IngestTests.sshd])]),
                              host: "web-01", bodyDigest: "d\(sequence)", receivedAt: Int64(sequence) * 100)
        }
        #expect(try db.pruneReceipts(receivedBefore: 250) == 2)
        let left = try db.reader.read { try ReceiptRun.fetchAll($0) }
        #expect(left.map(\.lastSequence) == [3])
        // Even when everything is older than the cutoff, the newest run stays.
        #expect(try db.pruneReceipts(receivedBefore: 10_000) == 0)
        // And a redelivery is still recognised.
        let again = try db.ingest(IngestTests.snapshot(3, at: "2026-11-25T10:00:03Z", [IngestTests.listener(24, [IngestTests.sshd])]),
                                  host: "web-01", bodyDigest: "d3", receivedAt: 20_000)
        #expect(again == .duplicate)
    }

    /// A report or export reading a large result does not hold the writer up: WAL gives
    /// the reader its snapshot while ingest commits.
    @Test func readersDoNotBlockIngest() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-readers-\(getpid()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let db = try CollectorDatabase.open(path: path)
        _ = try await db.ingest(IngestTests.snapshot(1, at: "2026-11-25T10:00:00Z", [IngestTests.listener(22, [IngestTests.sshd])]),
                          host: "web-01", bodyDigest: "a", receivedAt: 1)
        let (reading, readerInside) = AsyncStream<Void>.makeStream()
        let (release, readerMayFinish) = AsyncStream<Void>.makeStream()
        let reader = Task {
            try await db.reader.read { database -> Int in
                let before = try ListenerInterval.fetchCount(database)
                readerInside.yield()
                // Hold the read transaction open while the writer commits.
                let semaphore = DispatchSemaphore(value: 0)
                Task { for await _ in release { break }; semaphore.signal() }
                semaphore.wait()
                let after = try ListenerInterval.fetchCount(database)
                return before == after ? after : -1
            }
        }
        for await _ in reading { break }
        // The reader holds its transaction until released below, so this write can only
        // return if readers do not block writers (without WAL it would fail SQLITE_BUSY
        // after the 5 s busy timeout).
        _ = try await db.ingest(IngestTests.snapshot(2, at: "2026-11-25T10:01:00Z",
                                               [IngestTests.listener(22, [IngestTests.sshd]), IngestTests.listener(557, [IngestTests.vmsd])]),
                          host: "web-01", bodyDigest: "b", receivedAt: 2)
        readerMayFinish.yield()
        #expect(try await reader.value == 1, "the reader kept its own consistent view")
        #expect(try db.openListeners(host: "web-01").count == 2)
    }
}
