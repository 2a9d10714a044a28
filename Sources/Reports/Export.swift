import CollectorStore
import Findings
import Foundation
import PortwardenModel

/// `portwarden export`: flat rows for SIEMs and spreadsheets, one stable column set per
/// kind (documented in docs/exports.md).
public enum ExportKind: String, CaseIterable, Sendable {
    case findings, listeners, hosts, receipts

    /// The JSON envelope's `schema`. 2: `finding_id`; owners as objects (JSON) or
    /// `owner_*` columns (CSV) instead of `owners`, `cmdlines` and `owners_json`.
    public static let schema = 2

    /// The columns in `format`: the same in each but for the owners (`ExportOwners`).
    public func columns(_ format: DataFormat) -> [String] {
        switch self {
        case .findings:
            ["finding_id", "host", "rule", "severity", "waived", "waiver", "netns", "protocol", "family", "address", "port"]
                + ExportOwners.columns(format) + ["policy_version", "opened", "closed", "closed_as"]
        case .listeners:
            ["host", "netns", "host_netns", "protocol", "family", "address", "port", "scope"]
                + ExportOwners.columns(format) + ["opened", "closed", "closed_as"]
        case .hosts:
            ["host", "state", "machine_id", "boot_id", "kernel", "os", "first_seen", "last_seen", "last_received",
             "last_sequence", "complete", "open_listeners"]
        case .receipts:
            ["host", "boot_id", "first_sequence", "last_sequence", "reports", "first_collected", "last_collected",
             "last_received", "body_sha256"]
        }
    }
}

public struct Exporter {
    public let database: any HistoryStore
    /// Seconds without a report after which a host counts as stale.
    public let staleAfter: Int64

    public init(database: any HistoryStore, staleAfter: Int64) {
        self.database = database
        self.staleAfter = staleAfter
    }

    /// Writes `kind` for `window` to `output`. Findings and listeners: intervals
    /// overlapping the window; receipts: runs extended in it; hosts: every host known,
    /// with its state now.
    public func export(_ kind: ExportKind, window: TimeWindow, now: Int64, format: DataFormat, output: ReportOutput) throws {
        var header = [("export", kind.rawValue), ("since", Timestamp.rfc3339(window.since)), ("until", Timestamp.rfc3339(window.until)),
                      ("generated_at", Timestamp.rfc3339(now))]
        // Findings from a stretch under no policy are missing, not absent: JSON says so.
        let unevaluated = kind == .findings ? PolicyHistory(database: database).unevaluated(since: window.since, until: min(now, window.until)) : []
        if !unevaluated.isEmpty {
            header.append(("unevaluated", unevaluated.map { "\(Timestamp.rfc3339($0.since))/\($0.until.map { Timestamp.rfc3339($0) } ?? "now")" }
                .joined(separator: ",")))
        }
        var rows = RowWriter(format: format, schema: ExportKind.schema, columns: kind.columns(format), header: header, output: output)
        switch kind {
        case .findings:
            try database.forEachFindingInterval(since: window.since, until: window.until) { host, finding in
                rows.row([.text(finding.findingID(host: host)), .text(host), .text(finding.rule), .text(finding.severity),
                          .bool(finding.waived), .text(finding.waiver), .int(finding.netns), .text(finding.protocol),
                          .text(finding.family), .text(finding.address), .int(Int64(finding.port))]
                         + ExportOwners.cells(finding.owners, format)
                         + [.text(finding.policyVersion), .time(finding.opened), .time(finding.closed), .text(finding.closedAs)])
            }
        case .listeners:
            try database.forEachListenerInterval(since: window.since, until: window.until) { host, interval in
                rows.row([.text(host), .int(interval.netns), .bool(interval.hostNetns), .text(interval.protocol),
                          .text(interval.family), .text(interval.address), .int(Int64(interval.port)), .text(interval.scope)]
                         + ExportOwners.cells(interval.owners, format)
                         + [.time(interval.opened), .time(interval.closed), .text(interval.closedAs)])
            }
        case .hosts:
            let refusals = try database.currentRefusals()
            for (host, open) in try database.hostsWithOpenListeners() {
                let state = HostState(host: host, refusal: refusals[host.name], now: now, staleAfter: staleAfter)
                rows.row([.text(host.name), .text(state.name), .text(host.machineID), .text(host.bootID),
                          .text(host.kernel), .text(host.os), .time(host.firstSeen), .time(host.lastSeen),
                          .time(host.lastReceived), .int(host.lastSequence), .bool(host.complete), .int(Int64(open))])
            }
        case .receipts:
            try database.forEachReceiptRun(since: window.since, until: window.until) { host, run in
                rows.row([.text(host), .text(run.bootID), .int(run.firstSequence), .int(run.lastSequence), .int(run.reports),
                          .time(run.firstCollected), .time(run.lastCollected), .time(run.lastReceived),
                          .text(run.lastBodyDigest)])
            }
        }
        rows.finish()
    }
}
