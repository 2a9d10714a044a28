import Foundation
import PortwardenModel

/// The trend as one self-contained HTML file: no scripts, fonts or links to fetch; the
/// daily exposure chart is inline SVG; the summary comes first, the tables after; it
/// prints on paper as it shows on screen.
extension TrendReport {
    public func html() -> String {
        var body = "<h1>\(Escape.html(title))</h1>\n<p class=\"generated\">Generated \(Timestamp.rfc3339(generatedAt))</p>\n"
        body += "<section class=\"summary\"><ul>" + summary.map { "<li>\(Escape.html($0))</li>" }.joined() + "</ul></section>\n"
        body += "<h2>Hosts with unexpected legacy-port exposure, per day</h2>\n" + chart()
        body += "<h2>Still open (\(openFindings.count))</h2>\n"
        body += openFindings.isEmpty ? "<p>None.</p>\n" : TextLayout.htmlTable(findingHeader, openFindings.map(findingCells))
        if grouping != nil {
            body += "<h2>Open findings by \(grouping!.rawValue)</h2>\n" + TextLayout.htmlTable(groupHeader, groupRows, numeric: [1, 2, 3])
        }
        if !topHosts.isEmpty {
            body += "<h2>Top hosts</h2>\n" + TextLayout.htmlTable(["Host", "Open findings"], topHosts.map { [$0.name, String($0.findings)] }, numeric: [1])
            body += "<h2>Top processes</h2>\n"
                + TextLayout.htmlTable(["Process", "Open findings"], topProcesses.map { [$0.name, String($0.findings)] }, numeric: [1])
        }
        body += "<h2>Daily figures</h2>\n" + TextLayout.htmlTable(dayHeader, days.map(dayCells), numeric: [1, 2, 3, 4, 5, 6, 7])
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <title>\(Escape.html(title))</title>
            <style>
            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
            h1 { font-size: 1.5rem; margin-bottom: 0; } h2 { font-size: 1.1rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
            .generated { color: #57606a; margin-top: .2rem; }
            .summary ul { padding-left: 1.2rem; } .summary li { margin: .2rem 0; }
            table { border-collapse: collapse; width: 100%; font-size: 13px; }
            th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eaeef2; vertical-align: top; }
            th { background: #f6f8fa; } td:not(:last-child) { white-space: nowrap; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
            svg { width: 100%; height: auto; } .axis { stroke: #8c959f; } .grid { stroke: #eaeef2; }
            .exposed { fill: none; stroke: #cf222e; stroke-width: 2.5; } .new { fill: #fa4549; opacity: .55; } .nodata { fill: #f6f8fa; } .resolved { fill: #2da44e; opacity: .6; }
            .label { font-size: 11px; fill: #57606a; } .legend { font-size: 12px; fill: #1b1f24; }
            @media print { body { margin: 0; max-width: none; font-size: 11px; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
            </style></head>
            <body>
            \(body)</body></html>

            """
    }

    /// Exposed hosts per day as a line, new (red) and resolved (green) findings as bars.
    func chart() -> String {
        let width = 1000.0, height = 300.0, left = 64.0, right = 40.0, top = 28.0, bottom = 40.0
        let plotW = width - left - right, plotH = height - top - bottom
        let peak = max(1, days.map { max($0.hostsExposed, $0.newFindings, $0.resolvedFindings) }.max() ?? 1)
        let step = days.count > 1 ? plotW / Double(days.count - 1) : plotW
        func x(_ i: Int) -> Double { left + (days.count > 1 ? Double(i) * step : plotW / 2) }
        func y(_ v: Int) -> Double { top + plotH - Double(v) / Double(peak) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<svg id=\"exposure-chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
            + "aria-label=\"Hosts with unexpected legacy-port exposure per day\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        for tick in 0...4 {
            let value = Int((Double(peak) * Double(tick) / 4).rounded())
            svg += "<line class=\"grid\" x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(value)))\" y2=\"\(f(y(value)))\"/>"
            svg += "<text class=\"label\" x=\"\(f(left - 6))\" y=\"\(f(y(value) + 4))\" text-anchor=\"end\">\(value)</text>\n"
        }
        let barWidth = max(1.5, min(10, step * 0.35))
        for (i, row) in days.enumerated() {
            if row.newFindings > 0 {
                svg += "<rect class=\"new\" x=\"\(f(x(i) - barWidth))\" y=\"\(f(y(row.newFindings)))\" width=\"\(f(barWidth))\" "
                    + "height=\"\(f(top + plotH - y(row.newFindings)))\"><title>\(row.day.label): \(row.newFindings) new</title></rect>"
            }
            if row.resolvedFindings > 0 {
                svg += "<rect class=\"resolved\" x=\"\(f(x(i)))\" y=\"\(f(y(row.resolvedFindings)))\" width=\"\(f(barWidth))\" "
                    + "height=\"\(f(top + plotH - y(row.resolvedFindings)))\"><title>\(row.day.label): \(row.resolvedFindings) resolved</title></rect>"
            }
        }
        // The line starts at the first day with data: before it, exposure is unknown, not 0.
        let points = days.enumerated().filter(\.element.hasData).map { "\(f(x($0.offset))),\(f(y($0.element.hostsExposed)))" }
            .joined(separator: " ")
        svg += "\n<polyline class=\"exposed\" points=\"\(points)\"/>\n"
        if let lastEmpty = days.lastIndex(where: { !$0.hasData }) {
            // The days before any host reported (they come first): one shaded band, labelled.
            let from = x(0), to = x(lastEmpty)
            svg += "<rect class=\"nodata\" x=\"\(f(from - 4))\" y=\"\(f(top))\" width=\"\(f(to - from + 8))\" height=\"\(f(plotH))\">"
                + "<title>\(days[0].day.label) to \(days[lastEmpty].day.label): no data (no host had reported)</title></rect>"
                + "<text class=\"label\" x=\"\(f((from + to) / 2))\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\">no data</text>\n"
        }
        for (i, row) in days.enumerated() where row.hasData {
            svg += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(row.hostsExposed)))\" r=\"2.5\" fill=\"#cf222e\">"
                + "<title>\(row.day.label): \(row.hostsExposed) hosts exposed</title></circle>"
        }
        svg += "\n<line class=\"axis\" x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(top + plotH))\" y2=\"\(f(top + plotH))\"/>\n"
        let labelEvery = max(1, days.count / 8)
        for (i, row) in days.enumerated() where i % labelEvery == 0 || i == days.count - 1 {
            svg += "<text class=\"label\" x=\"\(f(x(i)))\" y=\"\(f(height - bottom + 18))\" text-anchor=\"middle\">\(row.day.label)</text>"
        }
        svg += "\n<text class=\"legend\" x=\"\(f(left))\" y=\"16\"><tspan fill=\"#cf222e\">━ hosts exposed</tspan>"
            + "   <tspan fill=\"#fa4549\">■ new findings</tspan>   <tspan fill=\"#2da44e\">■ resolved findings</tspan></text>\n"
        return svg + "</svg>\n"
    }
}
