@_spi(Testing) import CollectorStore
import Foundation
import Testing

/// A report's ingest reads a host's open intervals by their partial indexes: its cost
/// must not grow with the host's closed history (SQLite, without statistics, would take
/// the plain hostId index and read every interval the host ever had).
struct OpenIntervalQueryTests {
    @Test func theOpenIntervalsOfAHostAreReadByTheirPartialIndexes() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-plans-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let plans = try CollectorDatabase.open(path: path).openIntervalQueryPlans()
        #expect(plans.count == 4)
        for plan in plans {
            #expect(plan.contains("USING INDEX listenerInterval_open (hostId=?)") || plan.contains("USING INDEX findingInterval_open (hostId=?)"),
                    "\(plan)")
        }
    }
}
