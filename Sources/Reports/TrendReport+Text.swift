/// The trend for a terminal (fits 100 columns) and as Markdown.
extension TrendReport {
    var title: String {
        "portwarden trend: \(days.first?.day.label ?? "-") to \(days.last?.day.label ?? "-") (\(timeZone))"
    }

    /// The summary lines every format starts with.
    var summary: [String] {
        let openLive = openFindings.count { !$0.span.waived }
        let openWaived = openFindings.count - openLive
        var lines = [
            "Coverage: \(coverage.hosts) hosts, \(coverage.reporting) reporting, \(coverage.stale) stale"
                + (staleHosts.isEmpty ? "" : " (unknown, not compliant: \(staleHosts.prefix(3).joined(separator: ", "))"
                    + (staleHosts.count > 3 ? " and \(staleHosts.count - 3) more" : "") + ")")
                + refusingSummary,
            days.last?.hasData == false ? "Exposure now: no data (no host has reported yet)"
                : "Exposure now: \(days.last?.hostsExposed ?? 0) hosts with unexpected legacy-port exposure, "
                    + "\(openLive) open findings, \(openWaived) waived",
            "Over the period: \(days.reduce(0) { $0 + $1.newFindings }) new, \(days.reduce(0) { $0 + $1.resolvedFindings }) resolved"
                + retiredSummary + "; "
                + "time to resolve (\(timeToResolve.count) resolved): median \(TextLayout.duration(timeToResolve.medianSeconds)), "
                + "p90 \(TextLayout.duration(timeToResolve.p90Seconds))",
        ]
        lines.append(verdict)

        if let replayedPolicy { lines.append("Findings replayed under the policy in \(replayedPolicy), not as stored.") }
        lines += [PolicyLines.versions(openFindings.map(\.span.policyVersion), of: "open finding"),
                  PolicyLines.unevaluated(unevaluated)].compactMap { $0 }
        return lines
    }

    /// Better or worse from the first day with data to the last: the days before any host
    /// reported are unknown, not a fleet with nothing exposed.
    private var verdict: String {
        guard let first = firstDayWithData, let last = days.last else { return "Trend: no data in the period (no host had reported)" }
        let since = first == days.first ? "" : "; no data before \(first.day.label)"
        guard first != last else { return "Trend: one day of data (\(last.hostsExposed) exposed hosts on \(last.day.label))\(since)" }
        let change = last.hostsExposed - first.hostsExposed
        return "Trend: \(change < 0 ? "better" : change > 0 ? "worse" : "unchanged") "
            + "(\(first.hostsExposed) exposed hosts on \(first.day.label), \(last.hostsExposed) on \(last.day.label)\(since))"
    }

    /// Where the verdict and the "at start" of a breakdown start.
    var firstDayWithData: DayRow? { days.first(where: \.hasData) }

    /// `, N closed by retiring their hosts (not fixed)` when `hosts forget` closed any.
    private var retiredSummary: String {
        let retired = days.reduce(0) { $0 + $1.retiredFindings }
        return retired == 0 ? "" : ", \(retired) closed by retiring their host (not fixed)"
    }

    /// `, N refusing (…)` after the coverage, when a host's reports are being refused.
    private var refusingSummary: String {
        guard !refusingHosts.isEmpty else { return "" }
        let named = refusingHosts.prefix(3).map { "\($0.hostName): \($0.reason.phrase)" }.joined(separator: ", ")
        let more = refusingHosts.count > 3 ? " and \(refusingHosts.count - 3) more" : ""
        return ", \(coverage.refusing) refusing (reports refused, unknown: \(named)\(more))"
    }

    var dayHeader: [String] { ["DAY", "REPORTING", "EXPOSED", "OPEN", "NEW", "RESOLVED", "RETIRED", "WAIVED"] }

    func dayCells(_ row: DayRow) -> [String] {
        guard row.hasData else { return [row.day.label, String(row.hostsReporting), "no data", "-", "-", "-", "-", "-"] }
        return [row.day.label, String(row.hostsReporting), String(row.hostsExposed), String(row.openFindings), String(row.newFindings),
                String(row.resolvedFindings), String(row.retiredFindings), String(row.waivedOpen)]
    }

    var groupHeader: [String] { [(grouping?.rawValue ?? "group").uppercased(), "AT START", "AT END", "PEAK"] }

    var groupRows: [[String]] {
        groupNames.map { name in
            [name, String(firstDayWithData?.groups[name] ?? 0), String(days.last?.groups[name] ?? 0),
             String(days.map { $0.groups[name] ?? 0 }.max() ?? 0)]
        }
    }

    var findingHeader: [String] { ["SEVERITY", "AGE", "HOST", "PORT", "PROCESS", "RULE", "WHY"] }

    func findingCells(_ finding: OpenFinding) -> [String] {
        [finding.span.severity.rawValue + (finding.span.waived ? " (waived)" : ""), TextLayout.duration(finding.ageSeconds),
         finding.span.host, "\(finding.span.address):\(finding.span.port)/\(finding.span.transport)",
         finding.span.owners.isEmpty ? "-" : finding.span.owners, finding.span.rule, finding.why]
    }

    public func table() -> String {
        var out = Escape.terminal(title) + "\n\n" + summary.map(Escape.terminal).joined(separator: "\n") + "\n\n"
        out += TextLayout.table(dayHeader, days.map(dayCells))
        if grouping != nil {
            out += "\nOpen findings by \(grouping!.rawValue):\n" + TextLayout.table(groupHeader, groupRows)
        }
        out += "\nStill open (\(openFindings.count)):\n"
        if openFindings.isEmpty {
            out += "none\n"
        } else {
            out += TextLayout.table(Array(findingHeader.dropLast()), openFindings.map { Array(findingCells($0).dropLast()) })
            var rules: [String] = []
            for finding in openFindings where !rules.contains(finding.span.rule) { rules.append(finding.span.rule) }
            out += "Why:\n" + TextLayout.why(rules, Dictionary(openFindings.map { ($0.span.rule, $0.why) }, uniquingKeysWith: { a, _ in a }))
        }
        if !topHosts.isEmpty {
            out += "\nTop hosts:\n" + TextLayout.table(["HOST", "OPEN FINDINGS"], topHosts.map { [$0.name, String($0.findings)] })
            out += "\nTop processes:\n" + TextLayout.table(["PROCESS", "OPEN FINDINGS"], topProcesses.map { [$0.name, String($0.findings)] })
        }
        return out
    }

    public func markdown() -> String {
        var out = "# \(Escape.markdown(title))\n\n" + summary.map { "- \(Escape.markdown($0))" }.joined(separator: "\n")
            + "\n\n## Daily exposure\n\n"
        out += TextLayout.markdownTable(dayHeader, days.map(dayCells))
        if grouping != nil { out += "\n## Open findings by \(grouping!.rawValue)\n\n" + TextLayout.markdownTable(groupHeader, groupRows) }
        out += "\n## Still open (\(openFindings.count))\n\n"
        out += openFindings.isEmpty ? "None.\n" : TextLayout.markdownTable(findingHeader, openFindings.map(findingCells))
        if !topHosts.isEmpty {
            out += "\n## Top hosts\n\n" + TextLayout.markdownTable(["Host", "Open findings"], topHosts.map { [$0.name, String($0.findings)] })
            out += "\n## Top processes\n\n" + TextLayout.markdownTable(["Process", "Open findings"], topProcesses.map { [$0.name, String($0.findings)] })
        }
        return out
    }
}
