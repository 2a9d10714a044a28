import PortwardenModel
import ArgumentParser
import CollectorStore
import ConfigFile
import Foundation
import Reports

/// `portwarden audit`
struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Who did what to the fleet's identities: enrollments, approvals, revocations, secrets, tokens.",
        discussion: """
            Every enrollment decision (issued, pending, refused and why), an operator's \
            approval or refusal, a revocation, a renewal (or its refusal), a token made or \
            revoked, the secret replaced, a host retired (`hosts forget`) or back, a tag given, \
            taken or forgotten, the fleet CA rotated or retired, the server certificate reissued \
            — with who (the operator: SUDO_USER, else the account; or which secret or token \
            a host showed), what, when and from which address. Oldest first.
            """)

    @OptionGroup var state: StateOptions

    @Option(help: ArgumentHelp("How far back: 90s, 15m, 12h, 7d, 2w (a bare number is seconds).", valueName: "duration"))
    var since: String = "30d"

    @Option(help: "table or json.")
    var format: OutputFormat = .table

    func validate() throws {
        guard Seconds(since) != nil else { throw ValidationError("--since \"\(since)\" must be \(Seconds.syntax)") }
    }

    struct Row: Encodable {
        var at: String
        var action: String
        var actor: String
        var host: String?
        var address: String?
        var detail: String
    }

    func run() throws {
        let database = try openHistory(state)
        let rows = try database.auditEntries(since: nowSeconds - Int64(Seconds(since)!.value)).map {
            Row(at: Timestamp.rfc3339($0.at), action: $0.action.rawValue, actor: $0.actor, host: $0.host, address: $0.address,
                detail: $0.detail)
        }
        switch format {
        case .json: try Listing.print("entries", rows: rows)
        case .table:
            print(TextLayout.table(["TIME", "ACTION", "ACTOR", "HOST", "ADDRESS", "DETAIL"],
                                   rows.map { [$0.at, $0.action, $0.actor, $0.host ?? "-", $0.address ?? "-", $0.detail] },
                                   width: .max), terminator: "")
        }
    }
}
