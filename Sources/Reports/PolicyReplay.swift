import CollectorStore
import Foundation
import Policy
import PortwardenModel

/// A finding that another policy would have produced, and when: opened and closed as
/// the host's stored listeners came and went (and as waivers lapsed).
public struct ReplayedFinding: Sendable {
    public var finding: Finding
    /// When it would have opened; the start of the replay when it was open already.
    public var opened: Date
    /// Whether it was open already when the replay starts.
    public var openAtStart: Bool
    /// When it would have been resolved; nil while it would still be open.
    public var closed: Date?
}

/// Walks stored listener history under a policy: at every instant a listener interval
/// opened or closed, or a waiver lapsed, the host's listeners then are evaluated and the
/// findings compared with the instant before.
public enum PolicyReplay {
    public static func run(policy: PolicySet, timeline: [(host: HostRecord, intervals: [ListenerInterval])],
                           tags: [String: TagEdits], since: Date, until now: Date) -> [ReplayedFinding] {
        var results: [ReplayedFinding] = []
        let start = Int64(since.timeIntervalSince1970), end = Int64(now.timeIntervalSince1970)
        let expiries = policy.waivers.map { Int64($0.expires.end.timeIntervalSince1970) }
        for (host, intervals) in timeline {
            let facts = HostFacts(name: host.name, tags: policy.tags(host: host.name, edits: tags[host.name] ?? TagEdits()),
                                  labels: host.labelMap)
            // Each interval's listener decoded once, not at every instant.
            let spans = intervals.map { (opened: $0.opened, closed: $0.closed, listener: $0.listener) }
            var instants = Set([start])
            for interval in intervals {
                for t in [interval.opened, interval.closed].compactMap({ $0 }) where t > start && t <= end { instants.insert(t) }
            }
            for t in expiries where t > start && t <= end { instants.insert(t) }
            var open: [String: Int] = [:]  // identity → index in results
            // The intervals open at each instant, kept as the instants advance rather than
            // found again among all of the host's intervals each time.
            let byOpening = spans.indices.sorted { (spans[$0].opened, $0) < (spans[$1].opened, $1) }
            var nextOpening = 0
            var active: [Int] = []  // indices into spans, in the timeline's order
            for t in instants.sorted() {
                let before = active.count
                while nextOpening < byOpening.count, spans[byOpening[nextOpening]].opened <= t {
                    active.append(byOpening[nextOpening])
                    nextOpening += 1
                }
                if active.count > before { active.sort() }
                active.removeAll { spans[$0].closed.map { $0 <= t } ?? false }
                let listeners = active.map { spans[$0].listener }
                let at = Date(timeIntervalSince1970: TimeInterval(t))
                var seen: Set<String> = []
                for finding in policy.evaluate(listeners: listeners, host: facts, now: at) {
                    let identity = ObservedFinding(finding).identity
                    guard seen.insert(identity).inserted, open[identity] == nil else { continue }
                    open[identity] = results.count
                    results.append(ReplayedFinding(finding: finding, opened: at, openAtStart: t == start, closed: nil))
                }
                for (identity, index) in open where !seen.contains(identity) {
                    results[index].closed = at
                    open[identity] = nil
                }
            }
        }
        return results
    }
}

extension ReplayedFinding: WireEncodable {
    enum CodingKeys: String, CodingKey {
        case finding, opened, closed
        case openAtStart = "open_at_start"
    }

    /// `{"finding", "opened", "open_at_start", "closed"}`; times RFC 3339 UTC, `closed` null while open.
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.finding); w.value(finding)
        w.key(CodingKeys.opened); w.value(Timestamp.rfc3339(Int64(opened.timeIntervalSince1970)))
        w.key(CodingKeys.openAtStart); w.value(openAtStart)
        w.key(CodingKeys.closed); w.value(closed.map { Timestamp.rfc3339(Int64($0.timeIntervalSince1970)) })
        w.endObject()
    }
}
