import CollectorStore
import Findings
import Foundation
import Policy

/// A finding as the reports see it: who, what, how bad, and from when to when — read
/// from the stored finding intervals, or from a replay under another policy.
public struct FindingSpan: Equatable, Sendable {
    /// The same finding's id in every export and report (`FindingID`).
    public var findingID: String
    public var host: String
    public var rule: String
    public var severity: Severity
    public var waived: Bool
    public var transport: String
    public var address: String
    public var port: Int
    /// `sshd (root), nginx (www-data)`
    public var owners: String
    /// The owners' command lines, one per line, when known.
    public var commandLines: String = ""
    /// The digest of the policy version that produced it.
    public var policyVersion: String = ""
    public var opened: Int64
    public var closed: Int64?
    /// Closed by `hosts forget`, not by a fix: never counted as resolved.
    public var retired = false

    public init(findingID: String, host: String, rule: String, severity: Severity, waived: Bool, transport: String, address: String, port: Int,
                owners: String, opened: Int64, closed: Int64?) {
        self.findingID = findingID
        self.host = host
        self.rule = rule
        self.severity = severity
        self.waived = waived
        self.transport = transport
        self.address = address
        self.port = port
        self.owners = owners
        self.opened = opened
        self.closed = closed
    }

    func isOpen(at t: Int64) -> Bool { opened <= t && (closed.map { $0 > t } ?? true) }

    /// The stored intervals that overlap `window`.
    public static func stored(in database: any HistoryStore, window: TimeWindow) throws -> [FindingSpan] {
        var spans: [FindingSpan] = []
        try database.forEachFindingInterval(since: window.since, until: window.until) { host, f in
            let owners = OwnerSummary(json: f.owners)
            var span = FindingSpan(findingID: f.findingID(host: host), host: host, rule: f.rule, severity: Severity(rawValue: f.severity) ?? .info, waived: f.waived,
                                   transport: f.protocol, address: f.address, port: f.port, owners: owners.text,
                                   opened: f.opened, closed: f.closed)
            span.commandLines = owners.commandLines
            span.retired = f.closedAs == ClosedAs.retired
            span.policyVersion = f.policyVersion
            spans.append(span)
        }
        return spans
    }

    /// The findings `policy` would have produced over the stored listener history.
    public static func replayed(in database: any HistoryStore, policy: PolicySet, window: TimeWindow) throws -> [FindingSpan] {
        let timeline = try database.listenerTimeline(since: window.since)
        // A retired host's listeners closed when it was retired, so do the findings replayed on them.
        let retiredAt = Dictionary(timeline.compactMap { t in t.host.retiredAt.map { (t.host.name, $0) } }, uniquingKeysWith: min)
        let replayed = PolicyReplay.run(policy: policy, timeline: timeline,
                                        tags: try database.allTagEdits(),
                                        since: Date(timeIntervalSince1970: TimeInterval(window.since)),
                                        until: Date(timeIntervalSince1970: TimeInterval(window.until)))
        return replayed.map { r in
            let listener = r.finding.listener
            var span = FindingSpan(findingID: r.finding.findingID, host: r.finding.host, rule: r.finding.rule,
                                   severity: r.finding.severity, waived: r.finding.isWaived, transport: listener.transport.rawValue,
                                   address: listener.address, port: Int(listener.port),
                                   owners: listener.processes.map { OwnerSummary.label(name: $0.name, user: $0.user) }
                                       .joined(separator: ", "),
                                   opened: Int64(r.opened.timeIntervalSince1970), closed: r.closed.map { Int64($0.timeIntervalSince1970) })
            if let closed = span.closed, let retired = retiredAt[span.host], closed >= retired { span.retired = true }
            span.policyVersion = policy.digest
            return span
        }
    }
}
