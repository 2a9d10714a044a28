import CollectorStore
import Foundation
import PortwardenModel
import Testing

/// v9-retired on the previous release's history: every host is in the fleet, counted from
/// a receive time no later than what the history vouches for, and nothing reads as retired.
extension SQLiteUpgradeTests {
    @Test(arguments: UpgradeFixture.all)
    func upgradedHostsAreUnretiredWithAFirstReceiptFromTheirHistory(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database
        for (host, _) in try db.hosts(now: .max / 2, staleAfter: 900) {
            let firstReceived = try #require(host.firstReceived, "\(host.name)")
            let runs = try db.receiptRuns(host: host.name)
            #expect(runs.allSatisfy { $0.firstReceived == min($0.firstCollected, $0.lastReceived) }, "\(host.name): \(runs)")
            #expect(firstReceived == ([host.firstSeen, host.lastReceived] + runs.map(\.firstReceived)).min(), "\(host.name)")
            #expect(host.retiredAt == nil && host.retiredBy == nil && host.retiredReason == nil, "\(host.name)")
            #expect(try db.findingHistory(host: host.name).allSatisfy { $0.closedAs == nil }, "\(host.name)")
        }
        try db.forEachListenerInterval(since: 0, until: .max) { host, interval in #expect(interval.closedAs == nil, "\(host)") }
    }
}
