import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Reports
import Testing

/// A listener whose namespace the newest report could not read is unknown, not
/// "listening now"; owners not seen are the last known — in every format.
struct HostReportNamespaceTests {
    static let hostNs: UInt64 = 4026531840, containerNs: UInt64 = 4026532500

    func report() throws -> HostReport {
        let database = try CollectorDatabase.inMemory()
        var hidden = HistoryFixtures.listener(557, [HistoryFixtures.vmsd])
        hidden.netns = Self.containerNs
        hidden.hostNetns = false
        var first = HistoryFixtures.snapshot(1, at: "2026-11-25T10:00:00Z", [HistoryFixtures.listener(22, [HistoryFixtures.sshd]), hidden])
        first.completeNamespaces = [Self.hostNs, Self.containerNs]
        _ = try database.ingest(first, host: "web-01", bodyDigest: "a", receivedAt: 1_795_600_800)
        // The container's namespace unreadable now, sshd's descriptors too: 22 is shown without owners.
        var second = HistoryFixtures.snapshot(2, at: "2026-11-25T10:05:00Z", complete: false, [HistoryFixtures.listener(22, [])])
        second.completeNamespaces = [Self.hostNs]
        second.ownershipComplete = false
        _ = try database.ingest(second, host: "web-01", bodyDigest: "b", receivedAt: 1_795_601_100)
        return try HostReport(database: database, host: "web-01", tags: [], why: RuleTexts(), staleAfter: 3_600, now: 1_795_601_160)
    }

    @Test func aListenerInANamespaceNotReadIsUnknownInEveryFormat() throws {
        let report = try report()
        for text in [report.table(), report.markdown(), report.html()] {
            #expect(text.contains("Listening: 1 sockets, 1 unknown (namespace not read in the latest report)"), "\(text)")
            #expect(text.contains("Unknown (namespace not read in the latest report)"), "\(text)")
            #expect(text.contains("unseen since 2026-11-25 10:05"), "\(text)")
            #expect(text.contains("sshd (root) (last known)"), "\(text)")
            // 557 only under the unknown heading, after the listening one.
            let listening = try #require(text.range(of: "Listening now"))
            let unknown = try #require(text.range(of: "Unknown (namespace"))
            let port557 = try #require(text.range(of: "0.0.0.0:557"))
            #expect(listening.upperBound < unknown.lowerBound && unknown.upperBound < port557.lowerBound, "\(text)")
        }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json())) as? [String: Any])
        let listeners = try #require(json["listeners"] as? [[String: Any]])
        let byPort = Dictionary(uniqueKeysWithValues: listeners.map { ($0["port"] as! Int, $0) })
        #expect(byPort[557]?["state"] as? String == "unknown")
        #expect(byPort[557]?["unknown_reason"] as? String == "namespace not read in the latest report")
        #expect(byPort[557]?["unseen_since"] as? String == "2026-11-25T10:05:00Z")
        #expect(byPort[22]?["state"] as? String == "listening" && byPort[22]?["unknown_reason"] is NSNull)
        #expect(byPort[22]?["owners"] as? String == "sshd (root)")
        #expect(byPort[22]?["owners_last_known_since"] as? String == "2026-11-25T10:05:00Z")
    }
}
