import CollectorStore
import Findings
import Foundation
import PortwardenModel
import Reports
import Testing

/// Replaying the stored listener history under the policy it was ingested with finds
/// what ingest stored: same hosts, rules, ports, opening and resolving times — but for a
/// waiver's lapse, which replay places at the expiry itself and the fixture's ingest at
/// the next report (the fixture runs no midnight re-evaluation, as `serve` does). A
/// replayed finding has the stored one's `finding_id`.
struct ReplayTests {
    @Test func replayUnderTheIngestPolicyFindsWhatWasStored() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        func key(_ s: FindingSpan) -> String {
            "\(s.findingID) \(s.host) \(s.rule) \(s.transport)/\(s.port) waived=\(s.waived) \(s.opened)-\(s.closed.map(String.init) ?? "open")"
        }
        let stored = try FindingSpan.stored(in: fleet.database, window: FleetHistory.window)
        let replayed = try FindingSpan.replayed(in: fleet.database, policy: fleet.policy, window: FleetHistory.window)
        let lapsing = { (s: FindingSpan) in s.host == "lab-03" && s.port == 55 }
        #expect(stored.count == 5)
        #expect(replayed.filter { !lapsing($0) }.map(key).sorted() == stored.filter { !lapsing($0) }.map(key).sorted())

        // lab-03's 55/udp: waived from the same moment, then live from the same instant
        // the waived one resolves — no later than ingest saw it.
        let storedLapse = stored.filter(lapsing).sorted { $0.opened < $1.opened }
        let replayedLapse = replayed.filter(lapsing).sorted { $0.opened < $1.opened }
        try #require(replayedLapse.count == 2 && storedLapse.count == 2)
        #expect(replayedLapse[0].waived && !replayedLapse[1].waived)
        #expect(replayedLapse[0].opened == storedLapse[0].opened)
        #expect(replayedLapse[0].closed == replayedLapse[1].opened && replayedLapse[1].closed == nil)
        #expect(replayedLapse[1].opened <= storedLapse[1].opened)
        #expect(Set((storedLapse + replayedLapse).map(\.findingID)).count == 1, "waived or live, stored or replayed: one finding_id")
        #expect(Set(stored.map(\.findingID)).count == 4, "five intervals, four findings: the lapse keeps its id")
    }

    /// `policy replay --format json`: each finding carries the `finding_id` the stored one
    /// has, so a replay can be joined with an export.
    @Test func aReplayedFindingsJSONCarriesTheStoredFindingID() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        let replayed = PolicyReplay.run(policy: fleet.policy, timeline: try fleet.database.listenerTimeline(since: FleetHistory.since),
                                        tags: try fleet.database.allTagEdits(),
                                        since: Date(timeIntervalSince1970: TimeInterval(FleetHistory.since)),
                                        until: Date(timeIntervalSince1970: TimeInterval(FleetHistory.until)))
        var ids: Set<String> = []
        for finding in replayed {
            var w = JSONWriter()
            w.value(finding)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(w.buffer)) as? [String: Any])
            ids.insert(try #require(object["finding_id"] as? String))
        }
        #expect(ids == Set(try FindingSpan.stored(in: fleet.database, window: FleetHistory.window).map(\.findingID)) && ids.count == 4)
    }
}
