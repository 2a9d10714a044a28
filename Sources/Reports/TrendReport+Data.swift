import PortwardenModel

/// The trend as data: JSON (the shape in docs/reports.md, `"schema": 1`) and CSV (one
/// record per day; with `--by`, one more column per group).
extension TrendReport {
    public func json() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("schema"); w.value(1)
        w.key("report"); w.value("trend")
        w.key("since"); w.value(Timestamp.rfc3339(window.since))
        w.key("until"); w.value(Timestamp.rfc3339(window.until))
        w.key("time_zone"); w.value(timeZone)
        w.key("generated_at"); w.value(Timestamp.rfc3339(generatedAt))
        w.key("by"); w.value(grouping?.rawValue)
        w.key("replayed_policy"); w.value(replayedPolicy)
        PolicyLines.write(unevaluated, to: &w)
        w.key("coverage"); w.beginObject()
        w.key("hosts"); w.value(coverage.hosts)
        w.key("reporting"); w.value(coverage.reporting)
        w.key("stale"); w.value(coverage.stale)
        w.key("stale_hosts"); w.value(staleHosts)
        w.key("refusing"); w.value(coverage.refusing)
        w.key("refusing_hosts"); w.beginArray()
        for refusal in refusingHosts {
            w.beginObject()
            w.key("host"); w.value(refusal.hostName)
            w.key("reason"); w.value(refusal.reason.rawValue)
            w.key("since"); w.value(Timestamp.rfc3339(refusal.firstRefused))
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.key("time_to_resolve"); w.beginObject()
        w.key("resolved"); w.value(timeToResolve.count)
        w.key("median_seconds"); w.value(timeToResolve.medianSeconds)
        w.key("p90_seconds"); w.value(timeToResolve.p90Seconds)
        w.endObject()
        w.key("days"); w.beginArray()
        for row in days {
            w.beginObject()
            w.key("day"); w.value(row.day.label)
            w.key("start"); w.value(Timestamp.rfc3339(row.day.start))
            // Before the fleet's first report: no data — the counts are null, not 0.
            w.key("data"); w.value(row.hasData)
            w.key("hosts_reporting"); w.value(row.hostsReporting)
            let counts = row.hasData ? row : nil
            w.key("hosts_exposed"); w.value(counts?.hostsExposed)
            w.key("open_findings"); w.value(counts?.openFindings)
            w.key("new_findings"); w.value(counts?.newFindings)
            w.key("resolved_findings"); w.value(counts?.resolvedFindings)
            w.key("retired_findings"); w.value(counts?.retiredFindings)
            w.key("waived_open"); w.value(counts?.waivedOpen)
            if grouping != nil, !row.hasData {
                w.key("groups"); w.null()
            } else if grouping != nil {
                w.key("groups"); w.beginObject()
                for (name, count) in row.groups.sorted(by: { $0.key < $1.key }) { w.key(name); w.value(count) }
                w.endObject()
            }
            w.endObject()
        }
        w.endArray()
        w.key("open_findings"); w.beginArray()
        for finding in openFindings {
            let s = finding.span
            w.beginObject()
            w.key("finding_id"); w.value(s.findingID)
            w.key("host"); w.value(s.host)
            w.key("rule"); w.value(s.rule)
            w.key("severity"); w.value(s.severity.rawValue)
            w.key("why"); w.value(finding.why)
            w.key("policy_version"); w.value(s.policyVersion)
            w.key("waived"); w.value(s.waived)
            w.key("protocol"); w.value(s.transport)
            w.key("address"); w.value(s.address)
            w.key("port"); w.value(s.port)
            w.key("owners"); w.value(s.owners)
            w.key("cmdlines"); w.value(s.commandLines)
            w.key("opened"); w.value(Timestamp.rfc3339(s.opened))
            w.key("age_seconds"); w.value(finding.ageSeconds)
            w.endObject()
        }
        w.endArray()
        for (key, list) in [("top_hosts", topHosts), ("top_processes", topProcesses)] {
            w.key(key); w.beginArray()
            for entry in list {
                w.beginObject()
                w.key("name"); w.value(entry.name)
                w.key("open_findings"); w.value(entry.findings)
                w.endObject()
            }
            w.endArray()
        }
        w.endObject()
        w.endLine()
        return w.buffer
    }

    public func csv() -> String {
        let header = ["day", "hosts_reporting", "hosts_exposed", "open_findings", "new_findings", "resolved_findings", "retired_findings", "waived_open"]
            + groupNames.map { "\(grouping?.rawValue ?? "group"):\($0)" }
        // A day without data leaves its counts empty (not 0), as JSON writes null.
        return CSV.record(header) + days.map { row in
            CSV.record([.text(row.day.label), .int(Int64(row.hostsReporting))]
                       + [row.hostsExposed, row.openFindings, row.newFindings, row.resolvedFindings, row.retiredFindings,
                          row.waivedOpen].map { row.hasData ? .int(Int64($0)) : .null }
                       + groupNames.map { row.hasData ? .int(Int64(row.groups[$0] ?? 0)) : .null })
        }.joined()
    }
}
