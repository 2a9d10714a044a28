import ArgumentParser
import CollectorStore
import Findings
import Policy
import PortwardenModel
import Reports

extension Hosts {
    /// `portwarden hosts tags [HOST]`
    struct Tags: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each host's tags, and where each comes from: the inventory, or an operator.",
            discussion: """
                TAGS is what rules see now: the inventory of the policy in force \
                (Policies/inventory.yaml, as serve recorded it) with `hosts tag` added and \
                `hosts untag` taken away. Every host that has reported is listed, and every \
                name an operator tagged or untagged; retired hosts only with --all.
                """)

        @OptionGroup var state: StateOptions

        @Argument(help: "Only this host.")
        var host: String?

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        @Flag(help: "Show retired hosts (`hosts forget`) too.")
        var all = false

        struct Row: Encodable {
            var host: String
            var tags: [String]
            var inventory: [String]
            var added: [String]
            var removed: [String]
        }

        func run() throws {
            let database = try openHistory(state)
            let resolved = PolicyHistory(database: database).tags(at: nowSeconds)
            var names = Set(try database.hostsWithOpenListeners().filter { all || $0.host.retiredAt == nil }.map(\.host.name))
            names.formUnion(resolved.edits.keys)
            if let typed = host {
                let name = try hostArgument(typed, database)
                guard names.contains(name) else {
                    throw ValidationError("no host named \(name) has reported, enrolled or been tagged: `portwarden hosts list` shows the fleet")
                }
                names = [name]
            }
            let rows = names.sorted().map { name in
                let edits = resolved.edits[name] ?? TagEdits()
                return Row(host: name, tags: resolved.of(name).sorted(), inventory: (resolved.inventory?.tags(for: name) ?? []).sorted(),
                           added: edits.added, removed: edits.removed)
            }
            switch format {
            case .json: try Listing.print("hosts", rows: rows)
            case .table:
                func words(_ tags: [String]) -> String { tags.isEmpty ? "-" : tags.joined(separator: ", ") }
                print(TextLayout.table(["HOST", "TAGS", "FROM INVENTORY", "TAGGED", "UNTAGGED"], rows.map {
                    [$0.host, words($0.tags), words($0.inventory), words($0.added), words($0.removed)]
                }, width: .max), terminator: "")
            }
        }
    }
}
