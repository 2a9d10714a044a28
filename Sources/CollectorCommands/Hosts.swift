import ArgumentParser
import CollectorStore
import Foundation

/// `portwarden hosts …`
struct Hosts: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The fleet's hosts, what they listen on, their tags, and their certificates.",
        subcommands: [List.self, Tags.self, Tag.self, Untag.self, Revoke.self, Forget.self])

    /// `portwarden hosts revoke HOST`
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke every certificate issued to a host.",
            discussion: """
                A running collector refuses the certificate at its next connection, resumed \
                sessions included. The host must enroll again to report, and since its name \
                has held a certificate, that enrollment waits for `portwarden enroll approve` \
                — the secret alone does not undo a revocation. HOST is read in normal form \
                (WEB-01. is web-01).
                """)

        @OptionGroup var state: StateOptions

        @Argument(help: "The host's name, as in its certificate.")
        var host: String

        func run() throws {
            let database = try openHistory(state)
            let name = try hostArgument(host, database)
            let count = try database.revoke(host: name, at: nowSeconds, by: Operator.current)
            guard count > 0 else { throw ValidationError("no unrevoked certificate issued to \(name) is on record") }
            print("revoked \(count) certificate\(count == 1 ? "" : "s") of \(name)")
        }
    }
}
