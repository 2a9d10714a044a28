/// Plain-text layout for terminal reports: columns that fit a width (the widest column
/// gives way first, its cells cut with "…"), and durations people read. Every cell is
/// escaped for its output here, so no caller has to remember to.
public enum TextLayout {
    /// Rows under a header, two spaces apart, at most `width` columns wide; controls and
    /// bidi characters in a cell shown escaped (`Escape.terminal`).
    public static func table(_ header: [String], _ rows: [[String]], width: Int = 100) -> String {
        let header = header.map(Escape.terminal), rows = rows.map { $0.map(Escape.terminal) }
        var widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        while widths.reduce(0, +) + 2 * (widths.count - 1) > width, let widest = widths.indices.max(by: { widths[$0] < widths[$1] }),
              widths[widest] > 6 {
            widths[widest] -= 1
        }
        return ([header] + rows).map { cells in
            cells.enumerated().map { column, cell in
                let fitted = cell.count > widths[column] ? String(cell.prefix(widths[column] - 1)) + "…" : cell
                return column == cells.count - 1 ? fitted : fitted + String(repeating: " ", count: widths[column] - fitted.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// A Markdown table; each cell escaped (`Escape.markdown`: `|` and line breaks too, so
    /// a cell never splits a row).
    static func markdownTable(_ header: [String], _ rows: [[String]]) -> String {
        func line(_ cells: [String]) -> String { "| " + cells.map(Escape.markdown).joined(separator: " | ") + " |" }
        return ([line(header), line(header.map { _ in "---" })] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// An HTML table, cells escaped; the `numeric` columns align right.
    static func htmlTable(_ header: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        func cells(_ tag: String, _ row: [String]) -> String {
            row.enumerated().map { i, cell in "<\(tag)\(numeric.contains(i) ? " class=\"n\"" : "")>\(Escape.html(cell))</\(tag)>" }.joined()
        }
        return "<table><thead><tr>" + cells("th", header) + "</tr></thead><tbody>"
            + rows.map { "<tr>" + cells("td", $0) + "</tr>" }.joined() + "</tbody></table>\n"
    }

    /// Each rule's sentence once, wrapped to `width`: the tables leave it out to fit.
    static func why(_ rules: [String], _ why: [String: String], width: Int = 100) -> String {
        var out = ""
        for rule in rules where !(why[rule] ?? "").isEmpty {
            var line = "  \(Escape.terminal(rule)): "
            for word in Escape.terminal(why[rule]!).split(separator: " ") {
                if line.count + word.count + 1 > width {
                    out += line + "\n"
                    line = "    "
                }
                line += (line.hasSuffix(" ") ? "" : " ") + word
            }
            out += line + "\n"
        }
        return out
    }

    /// `3d 4h`, `5h 12m`, `42m`, `30s`.
    public static func duration(_ seconds: Int64?) -> String {
        guard let seconds else { return "-" }
        let d = seconds / 86_400, h = seconds % 86_400 / 3600, m = seconds % 3600 / 60
        if d > 0 { return "\(d)d \(h)h" }
        if h > 0 { return "\(h)h \(m)m" }
        if m > 0 { return "\(m)m" }
        return "\(seconds)s"
    }
}
