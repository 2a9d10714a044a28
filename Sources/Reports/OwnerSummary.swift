import PortwardenModel

/// One owner of a listener as the history keeps it: who, not which process — no pid,
/// which changes at every restart and would make each restart a change.
public struct StoredOwner: Equatable, Sendable {
    public var name: String
    public var exe: String?
    public var user: String?
    public var unit: String?
    public var container: String?
    /// As first seen; nil when not kept (listener intervals opened before migration v8).
    public var cmdline: [String]?

    /// The owners JSON stored with an interval. Read with the wire reader: an export
    /// decodes one per row, and Foundation's JSONDecoder was most of an export's time.
    public static func all(json: String) -> [StoredOwner] {
        var owners: [StoredOwner] = []
        var reader = WireReader(Array(json.utf8))
        _ = try? reader.array { (r: inout WireReader) throws(WireError) in
            var owner = StoredOwner(name: "")
            try r.object { (r: inout WireReader, key: String) throws(WireError) in
                switch key {
                case "name": owner.name = try r.string()
                case "exe": owner.exe = try r.optionalString()
                case "user": owner.user = try r.optionalString()
                case "unit": owner.unit = try r.optionalString()
                case "container": owner.container = try r.optionalString()
                case "cmdline": owner.cmdline = try r.strings()
                default: try r.skip()
                }
            }
            owners.append(owner)
        }
        return owners
    }
}

/// The owners stored with an interval, for people: `sshd (root), nginx (www-data)`.
public struct OwnerSummary {
    public let owners: [StoredOwner]
    public let text: String
    /// Each owner's command line, arguments space-separated, one owner per line (findings
    /// keep them; listener intervals since v8).
    public let commandLines: String

    public init(json: String) {
        owners = StoredOwner.all(json: json)
        var labels: [String] = []
        for owner in owners {
            // One program's workers differ by command line only: named once.
            let label = Self.label(name: owner.name, user: owner.user)
            if !labels.contains(label) { labels.append(label) }
        }
        text = labels.joined(separator: ", ")
        commandLines = owners.compactMap { $0.cmdline?.joined(separator: " ") }.joined(separator: "\n")
    }

    /// `sshd (root)`, or `sshd` when the user is unknown.
    public static func label(name: String, user: String?) -> String { user.map { "\(name) (\($0))" } ?? name }

    /// For tables: "-" when no owner was seen.
    public var orDash: String { text.isEmpty ? "-" : text }
}
