import CollectorStore
import Foundation
import Findings
import PortwardenModel

/// `portwarden report host HOST`: one host's listeners now, its open findings, and the
/// history of its findings.
public struct HostReport: Sendable {
    public var host: HostRecord
    /// Reporting, stale, or refusing (its newest report refused): `HostState`'s one rule.
    public var state: HostState
    public var tags: [String]
    public var listeners: [ListenerInterval]
    public var findings: [FindingInterval]
    /// Each finding's rule text, in the policy version that produced it.
    public var why: RuleTexts
    /// Stretches of the host's history evaluated under no policy (`serve --no-policy`).
    public var unevaluated: [PolicyPeriod] = []
    public var generatedAt: Int64

    public init(database: any HistoryStore, host name: String, tags: [String], why: RuleTexts, staleAfter: Int64,
                now: Int64) throws(ReportError) {
        do {
            guard let host = try database.host(named: name) else { throw ReportError("no host named \(name) has reported") }
            self.host = host
            state = HostState(host: host, refusal: try database.currentRefusals()[name], now: now, staleAfter: staleAfter)
            listeners = try database.openListeners(host: name)
            findings = try database.findingHistory(host: name)
        } catch let error as ReportError {
            throw error
        } catch {
            throw ReportError("reading the history of \(name): \(error)")
        }
        self.tags = tags
        self.why = why
        generatedAt = now
    }

    /// The report with tags, rule texts and the stretches under no policy taken from the
    /// policy versions the collector recorded.
    public init(database: any HistoryStore, host name: String, policies: PolicyHistory, staleAfter: Int64,
                now: Int64) throws(ReportError) {
        try self.init(database: database, host: name, tags: [], why: RuleTexts(), staleAfter: staleAfter, now: now)
        tags = policies.tags(at: now).of(host.name).sorted()
        why = policies.ruleTexts(versions: Set(findings.map(\.policyVersion)), at: now)
        unevaluated = policies.unevaluated(since: host.firstSeen, until: now)
    }

    var summary: [String] {
        let open = findings.filter { $0.closed == nil }
        return [
            "State: " + stateText,
            "Tags: " + (tags.isEmpty ? "none" : tags.joined(separator: ", ")),
            "Listening: \(listening.count) sockets"
                + (unknown.isEmpty ? "" : ", \(unknown.count) unknown (\(Self.unknownReason))") + "; open findings: \(open.count { !$0.waived }), waived: \(open.count { $0.waived })",
        ] + [PolicyLines.versions(findings.map(\.policyVersion), of: "finding"), PolicyLines.unevaluated(unevaluated)].compactMap { $0 }
    }

    func why(_ finding: FindingInterval) -> String { why[finding.rule, finding.policyVersion] }

    var stateText: String {
        switch state {
        case .reporting: "reporting (last report \(Timestamp.rfc3339(host.lastReceived)))"
        case .stale: "stale — no report since \(Timestamp.rfc3339(host.lastReceived)); what it listens on now is unknown"
        case .refusing(let refusal):
            "\(state.text) since \(Timestamp.rfc3339(refusal.firstRefused)) — its reports are refused (\(refusal.message)); "
                + "what it listens on now is unknown"
        case .retired(let at):
            "retired \(Timestamp.rfc3339(at)) by `hosts forget`" + (host.retiredReason.map { " (\($0))" } ?? "")
                + "; its intervals were closed as retired, not resolved"
        }
    }

    /// "Listening now" only while the host reports: otherwise what the history last knew,
    /// said to be that.
    var listenersHeading: String {
        state == .reporting ? "Listening now"
            : "Last known listeners (as of its last stored report, \(Timestamp.rfc3339(host.lastSeen)); may have changed since)"
    }

    /// Open listeners the host's newest report showed.
    var listening: [ListenerInterval] { listeners.filter { $0.unseenSince == nil } }
    /// Open listeners the newest report did not show and could not have: their namespace
    /// was not read in full, so whether they still listen is unknown.
    var unknown: [ListenerInterval] { listeners.filter { $0.unseenSince != nil } }
    static let unknownReason = "namespace not read in the latest report"
    var unknownHeading: String { "Unknown (\(Self.unknownReason))" }

    var listenerHeader: [String] { ["PROTO", "ADDRESS:PORT", "SCOPE", "NETNS", "SINCE", "OWNERS"] }
    func listenerRows(_ listeners: [ListenerInterval]) -> [[String]] {
        listeners.map {
            [SocketText.proto($0.protocol, ipv6: $0.family == "ipv6"), SocketText.endpoint($0.address, $0.port, ipv6: $0.family == "ipv6"),
             $0.scope, $0.hostNetns ? "host" : String($0.netns),
             Timestamp.minute($0.opened) + ($0.unseenSince.map { ", unseen since " + Timestamp.minute($0) } ?? ""),
             OwnerSummary(json: $0.owners).orDash + ($0.ownersUnseenSince == nil ? "" : " (last known)")]
        }
    }

    var findingHeader: [String] { ["SEVERITY", "PORT", "RULE", "OPENED", "RESOLVED", "PROCESS", "WHY"] }
    var findingRows: [[String]] {
        findings.sorted { ($0.closed == nil ? 0 : 1, $1.opened) < ($1.closed == nil ? 0 : 1, $0.opened) }.map {
            [$0.severity + ($0.waived ? " (waived)" : ""), "\($0.address):\($0.port)/\($0.protocol)", $0.rule,
             Timestamp.minute($0.opened), Self.closedText($0), OwnerSummary(json: $0.owners).orDash, why($0)]
        }
    }

    /// `open`, when it resolved, or `retired …` when `hosts forget` closed it (not a fix).
    static func closedText(_ finding: FindingInterval) -> String {
        guard let closed = finding.closed else { return "open" }
        return (finding.closedAs == ClosedAs.retired ? "retired " : "") + Timestamp.minute(closed)
    }

    public func table() -> String {
        "portwarden host report: \(Escape.terminal(host.name))\n\n" + summary.map(Escape.terminal).joined(separator: "\n")
            + "\n\n\(listenersHeading):\n"
            + TextLayout.table(listenerHeader, listenerRows(listening))
            + (unknown.isEmpty ? "" : "\n\(unknownHeading):\n" + TextLayout.table(listenerHeader, listenerRows(unknown)))
            + "\nFindings (open first, then history; times UTC):\n"
            + (findings.isEmpty ? "none\n"
               : TextLayout.table(Array(findingHeader.dropLast()), findingRows.map { Array($0.dropLast()) })
                 + "Why:\n" + TextLayout.why(Array(Set(findings.map(\.rule))).sorted(),
                                              // A rule's newest text, when versions differ.
                                              Dictionary(findings.sorted { $0.opened > $1.opened }.map { ($0.rule, why($0)) },
                                                         uniquingKeysWith: { newest, _ in newest })))
    }

    public func markdown() -> String {
        return "# Host \(Escape.markdown(host.name))\n\n" + summary.map { "- \(Escape.markdown($0))" }.joined(separator: "\n")
            + "\n\n## \(Escape.markdown(listenersHeading))\n\n"
            + TextLayout.markdownTable(listenerHeader, listenerRows(listening))
            + (unknown.isEmpty ? "" : "\n## \(Escape.markdown(unknownHeading))\n\n" + TextLayout.markdownTable(listenerHeader, listenerRows(unknown)))
            + "\n## Findings\n\n" + (findings.isEmpty ? "None.\n" : TextLayout.markdownTable(findingHeader, findingRows))
    }

    public func html() -> String {
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Host \(Escape.html(host.name))</title>
            <style>body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
            table { border-collapse: collapse; width: 100%; font-size: 13px; } th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eaeef2; }
            th { background: #f6f8fa; } @media print { body { margin: 0; } tr { break-inside: avoid; } }</style></head><body>
            <h1>Host \(Escape.html(host.name))</h1><ul>\(summary.map { "<li>\(Escape.html($0))</li>" }.joined())</ul>
            <h2>\(Escape.html(listenersHeading))</h2>\(TextLayout.htmlTable(listenerHeader, listenerRows(listening)))\(unknownHTML)<h2>Findings</h2>\(findings.isEmpty ? "<p>None.</p>" : TextLayout.htmlTable(findingHeader, findingRows))
            </body></html>

            """
    }

    private var unknownHTML: String {
        unknown.isEmpty ? "" : "<h2>\(Escape.html(unknownHeading))</h2>" + TextLayout.htmlTable(listenerHeader, listenerRows(unknown))
    }

    public func json() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("schema"); w.value(1)
        w.key("report"); w.value("host")
        w.key("host"); w.value(host.name)
        w.key("state"); w.value(state.name)
        if let refusal = state.refusal {
            w.key("refusing"); w.beginObject()
            w.key("reason"); w.value(refusal.reason.rawValue)
            w.key("message"); w.value(refusal.message)
            w.key("since"); w.value(Timestamp.rfc3339(refusal.firstRefused))
            w.endObject()
        }
        w.key("last_report"); w.value(Timestamp.rfc3339(host.lastReceived))
        w.key("tags"); w.value(tags)
        w.key("generated_at"); w.value(Timestamp.rfc3339(generatedAt))
        PolicyLines.write(unevaluated, to: &w)
        w.key("listeners"); w.beginArray()
        for l in listeners {
            w.beginObject()
            w.key("protocol"); w.value(l.protocol)
            w.key("family"); w.value(l.family)
            w.key("address"); w.value(l.address)
            w.key("port"); w.value(l.port)
            w.key("scope"); w.value(l.scope)
            w.key("netns"); w.value(l.netns)
            w.key("host_netns"); w.value(l.hostNetns)
            w.key("owners"); w.value(OwnerSummary(json: l.owners).text)
            w.key("owners_last_known_since"); w.value(l.ownersUnseenSince.map { Timestamp.rfc3339($0) })
            w.key("since"); w.value(Timestamp.rfc3339(l.opened))
            // "listening" when the newest report showed it; "unknown" when its namespace was not read.
            w.key("state"); w.value(l.unseenSince == nil ? "listening" : "unknown")
            w.key("unknown_reason"); w.value(l.unseenSince == nil ? nil : Self.unknownReason)
            w.key("unseen_since"); w.value(l.unseenSince.map { Timestamp.rfc3339($0) })
            w.endObject()
        }
        w.endArray()
        w.key("findings"); w.beginArray()
        for f in findings {
            w.beginObject()
            w.key("finding_id"); w.value(f.findingID(host: host.name))
            w.key("rule"); w.value(f.rule)
            w.key("severity"); w.value(f.severity)
            w.key("why"); w.value(why(f))
            w.key("policy_version"); w.value(f.policyVersion)
            w.key("waived"); w.value(f.waived)
            w.key("protocol"); w.value(f.protocol)
            w.key("address"); w.value(f.address)
            w.key("port"); w.value(f.port)
            w.key("owners"); w.value(OwnerSummary(json: f.owners).text)
            w.key("opened"); w.value(Timestamp.rfc3339(f.opened))
            w.key("closed"); w.value(f.closed.map { Timestamp.rfc3339($0) })
            // Only when closed otherwise than resolved: `retired`.
            if let closedAs = f.closedAs { w.key("closed_as"); w.value(closedAs) }
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endLine()
        return w.buffer
    }

    /// CSV: the host's findings, open and past, one record each.
    public func csv() -> String {
        CSV.record(["finding_id", "host", "rule", "severity", "waived", "protocol", "address", "port", "owners", "opened", "closed", "policy_version"])
            + findings.map {
                CSV.record([.text($0.findingID(host: host.name)), .text(host.name), .text($0.rule), .text($0.severity), .bool($0.waived), .text($0.protocol), .text($0.address),
                            .int(Int64($0.port)), .text(OwnerSummary(json: $0.owners).text), .time($0.opened), .time($0.closed),
                            .text($0.policyVersion)])
            }.joined()
    }
}
