import CollectorStore
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Reports stored together in one transaction (the collector's ingest queue) come out as
/// if each had been stored alone.
struct BatchIngestTests {
    @Test(arguments: StoreMaker.all) func aBatchStoresEachReportAsIfAlone(_ store: StoreMaker) async throws {
        let db = try await store.make()
        let first = HistoryFixtures.snapshot(1, at: "2026-11-25T10:00:00Z", [HistoryFixtures.listener(22, [HistoryFixtures.sshd])])
        let broken = HistoryFixtures.snapshot(2, at: "yesterday", [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])])
        let second = HistoryFixtures.snapshot(2, at: "2026-11-25T10:01:00Z",
                                          [HistoryFixtures.listener(22, [HistoryFixtures.sshd]), HistoryFixtures.listener(111, [HistoryFixtures.sshd])])
        let results = try db.ingest([
            IngestRequest(first, host: "web-01", bodyDigest: "a", receivedAt: 1),
            IngestRequest(broken, host: "web-01", bodyDigest: "b", receivedAt: 2),
            IngestRequest(second, host: "web-01", bodyDigest: "c", receivedAt: 3),
            IngestRequest(second, host: "web-01", bodyDigest: "c", receivedAt: 4),  // redelivered at once
        ], refusals: [], findings: nil, clock: nil)
        #expect(try results[0].get() == .changed(opened: 1, closed: 0))
        #expect(throws: ReportRefusal.self) { try results[1].get() }
        // The later report sees the earlier one's writes, within the same transaction.
        #expect(try results[2].get() == .changed(opened: 1, closed: 0))
        #expect(try results[3].get() == .duplicate)
        #expect(try db.openListeners(host: "web-01").map(\.port) == [22, 111])
    }
}
