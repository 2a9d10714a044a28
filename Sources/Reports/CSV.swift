import PortwardenModel

/// RFC 4180 fields: quoted when they hold a comma, a quote, CR or LF (quotes doubled) —
/// or a semicolon or tab, which spreadsheets in some locales take for the separator, so
/// that `x;=cmd` cannot become a second cell that begins a formula; records end in CRLF.
/// Cmdlines with commas, quotes and line breaks survive a round trip through any
/// conforming reader (Python's `csv` among them). Text cells that a spreadsheet would run
/// as a formula are neutralised first (`Escape.spreadsheet`); numbers, booleans and times
/// are written as they are.
public enum CSV {
    static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D || $0 == 0x3B || $0 == 0x09 })
        else { return text }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }

    public static func record(_ cells: [Cell]) -> String {
        cells.map { field($0.csv) }.joined(separator: ",") + "\r\n"
    }

    /// Several values in one cell, one a line (LF), for the spreadsheet's reader: each
    /// value's own backslashes written `\\`, and its line breaks and every other hidden
    /// character (controls, C1's NEL, U+2028, bidi marks: what some reader takes for a line
    /// break or a terminal for a command) as `\n`, `\x0b`, `\u2028` (`VisibleText`), so
    /// that a name holding one stays one line, and the n-th line of one column and of the
    /// next are the same item.
    public static func lines(_ values: [String]) -> String {
        values.map { value in
            guard value.unicodeScalars.contains(where: { $0 == "\\" || VisibleText.isHidden($0) }) else { return value }
            // By scalar: to a String, CRLF is one Character that matches neither CR nor LF.
            var escaped = ""
            for scalar in value.unicodeScalars {
                if scalar == "\\" {
                    escaped += "\\\\"
                } else if VisibleText.isHidden(scalar) {
                    escaped += VisibleText.escaped(String(scalar))
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
            return escaped
        }.joined(separator: "\n")
    }

    /// A header record: column names are text cells like any other.
    public static func record(_ names: [String]) -> String { record(names.map(Cell.text)) }
}
