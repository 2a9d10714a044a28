/// How an export writes a listener's owners (docs/exports.md, "Owners"): in JSON one
/// `owners` value, an array of objects; in CSV, which has no nesting, one column per field
/// (`owner_names`, …), each holding one line per owner in the same order (`CSV.lines`).
enum ExportOwners {
    /// Each field: its key in a JSON owner object, its CSV column, its value.
    static let fields: [(key: String, column: String, value: @Sendable (StoredOwner) -> Cell)] = [
        ("name", "owner_names", { .text($0.name) }),
        ("user", "owner_users", { .text($0.user) }),
        ("exe", "owner_exes", { .text($0.exe) }),
        ("unit", "owner_units", { .text($0.unit) }),
        ("container", "owner_containers", { .text($0.container) }),
        ("cmdline", "owner_cmdlines", { $0.cmdline.map(Cell.list) ?? .null }),
    ]

    /// The owners' columns in `format`.
    static func columns(_ format: DataFormat) -> [String] { format == .csv ? fields.map(\.column) : ["owners"] }

    /// The owners' cells in `format`, in `columns(format)`'s order.
    static func cells(_ json: String, _ format: DataFormat) -> [Cell] {
        let owners = StoredOwner.all(json: json)
        guard format == .csv else {
            return [.objects(owners.map { owner in fields.map { CellField($0.key, $0.value(owner)) } })]
        }
        // An unknown value is an empty line; a command line's arguments are space-separated.
        return fields.map { field in
            .text(CSV.lines(owners.map { owner in
                switch field.value(owner) {
                case .text(let text): text
                case .list(let arguments): arguments.joined(separator: " ")
                default: ""
                }
            }))
        }
    }
}
