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
/// opened or closed, a host's labels changed or a waiver lapsed, the host's listeners then
/// are evaluated and the findings compared with the instant before — by the same identity
/// and the same open/resolve rule (`FindingDelta`) as ingest, so a replay of the policy in
/// force pairs with the stored findings.
public enum PolicyReplay {
    /// `tags`: the hosts' tags (today's — their history is not kept).
    public static func run(policy: PolicySet, timeline: [HostTimeline], tags: [String: TagEdits],
                           since: Date, until now: Date) -> [ReplayedFinding] {
        var results: [ReplayedFinding] = []
        var identities: [String] = []  // each result's finding identity
        let start = Int64(since.timeIntervalSince1970), end = Int64(now.timeIntervalSince1970)
        let expiries = policy.waivers.map { Int64($0.expires.end.timeIntervalSince1970) }
        let hostTags = HostTags(inventory: policy.inventory, edits: tags)
        for history in timeline {
            let host = history.host.name, intervals = history.intervals
            let tags = hostTags.of(host)
            // Each interval's listener decoded once, not at every instant.
            let spans = intervals.map { (opened: $0.opened, closed: $0.closed, listener: $0.listener) }
            var instants = Set([start])
            for t in intervals.flatMap({ [$0.opened, $0.closed].compactMap { $0 } }) + history.labels.map(\.since) + expiries
            where t > start && t <= end {
                instants.insert(t)
            }
            var open: [String: Int] = [:]  // identity → index in results
            /// Evaluates the listeners of `indices` at `t`: findings new since the last step
            /// open, those no longer produced are resolved.
            func step(_ indices: [Int], at: Date, t: Int64, facts: HostFacts) {
                let findings = policy.evaluate(listeners: indices.map { spans[$0].listener }, host: facts, now: at)
                let observed = findings.map(ObservedFinding.init)
                let (opening, resolving) = FindingDelta.between(produced: observed, open: open,
                                                                netns: { results[$0].finding.listener.netns }, complete: true)
                if !opening.isEmpty {
                    let byIdentity = Dictionary(zip(observed.map(\.identity), findings), uniquingKeysWith: { first, _ in first })
                    for finding in opening {
                        open[finding.identity] = results.count
                        identities.append(finding.identity)
                        results.append(ReplayedFinding(finding: byIdentity[finding.identity]!, opened: at, openAtStart: t == start,
                                                       closed: nil))
                    }
                }
                for index in resolving {
                    results[index].closed = at
                    open[identities[index]] = nil
                }
            }
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
                let at = Date(timeIntervalSince1970: TimeInterval(t))
                let facts = HostFacts(name: host, tags: tags, labels: history.labels(at: t))
                // Opened and closed in the same second (two reports in it): ingest evaluated
                // it once, so the replay does too, before the instant's closings.
                if active.contains(where: { spans[$0].opened == t && spans[$0].closed == t }) {
                    step(active.filter { spans[$0].closed.map { $0 > t } ?? true || spans[$0].opened == t }, at: at, t: t, facts: facts)
                }
                active.removeAll { spans[$0].closed.map { $0 <= t } ?? false }
                step(active, at: at, t: t, facts: facts)
            }
        }
        return results
    }
}

extension ReplayedFinding: WireEncodable {
    enum CodingKeys: String, CodingKey {
        case finding, opened, closed
        case findingID = "finding_id"
        case openAtStart = "open_at_start"
    }

    /// `{"finding_id", "finding", "opened", "open_at_start", "closed"}`; times RFC 3339 UTC,
    /// `closed` null while open. `finding_id` is the stored finding's, as in exports.
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.findingID); w.value(finding.findingID)
        w.key(CodingKeys.finding); w.value(finding)
        w.key(CodingKeys.opened); w.value(Timestamp.rfc3339(Int64(opened.timeIntervalSince1970)))
        w.key(CodingKeys.openAtStart); w.value(openAtStart)
        w.key(CodingKeys.closed); w.value(closed.map { Timestamp.rfc3339(Int64($0.timeIntervalSince1970)) })
        w.endObject()
    }
}
