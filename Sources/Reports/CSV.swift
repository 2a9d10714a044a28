/// RFC 4180 fields: quoted when they hold a comma, a quote, CR or LF (quotes doubled) —
/// or a semicolon or tab, which spreadsheets in some locales take for the separator, so
/// that `x;=cmd` cannot become a second cell that begins a formula; records end in CRLF. Cmdlines with commas and newlines survive a round trip through
/// any conforming reader (Python's `csv` among them). Text cells that a spreadsheet would
/// run as a formula are neutralised first (`Escape.spreadsheet`); numbers, booleans and
/// times are written as they are.
public enum CSV {
    static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D || $0 == 0x3B || $0 == 0x09 })
        else { return text }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }

    public static func record(_ cells: [Cell]) -> String {
        cells.map { field($0.csv) }.joined(separator: ",") + "\r\n"
    }

    /// A header record: column names are text cells like any other.
    public static func record(_ names: [String]) -> String { record(names.map(Cell.text)) }
}
