import PortwardenModel

/// The owners JSON stored with an interval, for people: `sshd (root), nginx (www-data)`.
/// Read with the wire reader: an export decodes one per row, and Foundation's JSONDecoder
/// was most of an export's time.
public struct OwnerSummary {
    public let text: String
    /// Each owner's command line, arguments space-separated, one owner per line (findings
    /// keep them; listener intervals since v8).
    public let commandLines: String

    public init(json: String) {
        var labels: [String] = [], lines: [String] = []
        var reader = WireReader(Array(json.utf8))
        _ = try? reader.array { (r: inout WireReader) throws(WireError) in
            var name = "", user: String?, cmdline: [String]?
            try r.object { (r: inout WireReader, key: String) throws(WireError) in
                switch key {
                case "name": name = try r.string()
                case "user": user = try r.optionalString()
                case "cmdline": cmdline = try r.strings()
                default: try r.skip()
                }
            }
            // One program's workers differ by command line only: named once.
            let label = Self.label(name: name, user: user)
            if !labels.contains(label) { labels.append(label) }
            if let cmdline { lines.append(cmdline.joined(separator: " ")) }
        }
        text = labels.joined(separator: ", ")
        commandLines = lines.joined(separator: "\n")
    }

    /// `sshd (root)`, or `sshd` when the user is unknown.
    public static func label(name: String, user: String?) -> String { user.map { "\(name) (\($0))" } ?? name }

    /// For tables: "-" when no owner was seen.
    public var orDash: String { text.isEmpty ? "-" : text }
}
