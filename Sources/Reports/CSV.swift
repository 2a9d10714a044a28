/// RFC 4180 fields: quoted when they hold a comma, a quote, CR or LF (quotes doubled);
/// records end in CRLF. Cmdlines with commas and newlines survive a round trip through
/// any conforming reader (Python's `csv` among them).
public enum CSV {
    public static func field(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return text }
        return "\"" + text.replacing("\"", with: "\"\"") + "\""
    }

    public static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }
}
