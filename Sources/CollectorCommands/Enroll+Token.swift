import PortwardenModel
import ArgumentParser
import CollectorServer
import CollectorStore
import ConfigFile
import Foundation
import Policy
import Reports

extension Enroll {
    /// `portwarden enroll token …`
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Scoped enrollment tokens: for some names, a number of times, for a while.",
            discussion: """
                A token lets hosts enroll themselves like the secret does, but only under \
                names matching its pattern, at most --uses times, until it expires — so a \
                leaked token is not a master key. Approval rules are the same as for the \
                secret: a name that held a certificate, or that the policy singles out by name, \
                waits for `enroll approve`.
                """,
            subcommands: [Create.self, List.self, Revoke.self])

        /// `portwarden enroll token create`
        struct Create: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Make a token and print it, once.",
                discussion: """
                    The collector keeps only its SHA-256. Give it to the host in a file \
                    (`portwarden-agent enroll --token-file`), which the agent deletes once \
                    enrolled. Each certificate issued with it is one use.
                    """)

            @OptionGroup var state: StateOptions

            @Option(help: ArgumentHelp("The host names it may enroll: a pattern (web-*, nfs-[0-9]*, *.lab.example).", valueName: "pattern"))
            var names: String

            @Option(help: "How many certificates it may obtain.")
            var uses: Int = 1

            @Option(help: ArgumentHelp("How long it lasts: 90s, 15m, 12h, 7d, 2w (a bare number is seconds).", valueName: "duration"))
            var expires: String = "7d"

            static let maxLife = 365 * 86_400

            func validate() throws {
                guard !names.allSatisfy(\.isWhitespace) else {
                    throw ValidationError("--names is empty: give the names it may enroll, e.g. --names 'web-*'")
                }
                let pattern: HostNamePattern
                do { pattern = try HostNamePattern(names) } catch { throw ValidationError("--names: \(error)") }
                if let stray = pattern.strayCharacter {
                    throw ValidationError("--names \"\(names)\" matches no host: host names hold only a-z, 0-9, '-' and '.', not '\(stray)'")
                }
                guard (1...1_000_000).contains(uses) else { throw ValidationError("--uses must be from 1 to 1000000") }
                guard let life = Seconds(expires), (60...Self.maxLife).contains(life.value) else {
                    throw ValidationError("--expires \"\(expires)\" must be \(Seconds.syntax), from 1m to 365d")
                }
            }

            func run() throws {
                // As names are kept: lower case (matching ignores case either way).
                let names = self.names.lowercased()
                let database = try openHistory(state)
                let text = try CredentialText.newToken()
                let now = nowSeconds
                let expiresAt = now + Int64(Seconds(expires)!.value)
                let token = try database.createToken(
                    EnrollmentCredential(kind: .token, digest: CredentialText.digest(text), names: names, maxUses: Int64(uses),
                                         expiresAt: expiresAt, createdAt: now, createdBy: Operator.current),
                    scope: "names \(names), \(uses) use\(uses == 1 ? "" : "s"), expires \(Timestamp.rfc3339(expiresAt))")
                print(text)
                printError("token #\(token.id!): names \(names), \(uses) use\(uses == 1 ? "" : "s"), expires "
                    + "\(Timestamp.rfc3339(expiresAt)); shown once — the collector keeps only its digest")
            }
        }

        /// `portwarden enroll token list`
        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Every token: its names, uses, expiry and state.")

            @OptionGroup var state: StateOptions

            @Option(help: "table or json.")
            var format: OutputFormat = .table

            struct Row: Encodable {
                var id: Int64
                var names: String
                var uses: Int64
                var maxUses: Int64?
                var expires: String?
                var state: String
                var created: String
                var createdBy: String
            }

            func run() throws {
                let database = try openHistory(state)
                let now = nowSeconds
                let rows = try database.tokens().map { t in
                    Row(id: t.id!, names: t.names ?? "*", uses: t.uses, maxUses: t.maxUses, expires: t.expiresAt.map { Timestamp.rfc3339($0) },
                        state: t.revokedAt != nil ? "revoked" : (t.expiresAt ?? .max) <= now ? "expired"
                            : t.uses >= (t.maxUses ?? .max) ? "used up" : "active",
                        created: Timestamp.rfc3339(t.createdAt), createdBy: t.createdBy)
                }
                switch format {
                case .json: try Listing.print("tokens", rows: rows)
                case .table:
                    print(TextLayout.table(["ID", "NAMES", "USES", "EXPIRES", "STATE", "CREATED BY"], rows.map {
                        [String($0.id), $0.names, "\($0.uses)/\($0.maxUses.map(String.init) ?? "∞")", $0.expires ?? "-", $0.state,
                         $0.createdBy]
                    }, width: .max), terminator: "")
                }
            }
        }

        /// `portwarden enroll token revoke ID`
        struct Revoke: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke a token: it enrolls nobody from now on, also on a running collector.",
                discussion: "Certificates already issued with it stay valid; revoke those with `portwarden hosts revoke`.")

            @OptionGroup var state: StateOptions

            @Argument(help: "The token's number, as `enroll token list` shows it.")
            var id: Int64

            func run() throws {
                let database = try openHistory(state)
                guard try database.revokeToken(id: id, at: nowSeconds, by: Operator.current) else {
                    throw ValidationError("no active token #\(id): see `portwarden enroll token list`")
                }
                print("revoked token #\(id)")
            }
        }
    }
}
