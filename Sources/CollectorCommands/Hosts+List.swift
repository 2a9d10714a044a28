import ArgumentParser
import CollectorStore
import Foundation

extension Hosts {
    /// `portwarden hosts list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every host that has reported: when it last did, and whether it is stale.",
            discussion: "A stale host has not reported within the stale window; what it listened on is unknown, not compliant.")

        @OptionGroup var state: StateOptions

        @Option(help: "Seconds without a report after which a host counts as stale (default: the config's stale_after, else 900).")
        var staleAfter: Int?

        func run() throws {
            let database = try CollectorDatabase.open(path: try state.databasePath())
            let now = Int64(Date().timeIntervalSince1970)
            let window = Int64(try staleAfter ?? state.file().staleAfter ?? 900)
            var table = TextTable(header: ["HOST", "LAST REPORT (UTC)", "STATE", "LISTENING", "LAST SEQUENCE"])
            for (host, stale) in try database.hosts(now: now, staleAfter: window) {
                let listening = try database.openListeners(host: host.name).count
                table.rows.append([host.name, utc(host.lastReceived), stale ? "stale" : "reporting",
                                   stale ? "unknown (\(listening) last seen)" : String(listening),
                                   host.lastSequence.map(String.init) ?? "-"])
            }
            print(table.render(), terminator: "")
        }
    }

    /// `portwarden hosts show HOST`
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What a host listens on now, as its last report showed.")

        @OptionGroup var state: StateOptions

        @Argument(help: "The host's name, as in its certificate.")
        var host: String

        func run() throws {
            let database = try CollectorDatabase.open(path: try state.databasePath())
            guard try database.hosts(now: 0, staleAfter: 0).contains(where: { $0.host.name == host }) else {
                throw ValidationError("no host named \(host) has reported")
            }
            let listeners = try database.openListeners(host: host)
            var table = TextTable(header: ["PROTO", "ADDRESS:PORT", "SCOPE", "NETNS", "SINCE (UTC)", "OWNERS"])
            for listener in listeners {
                let proto = listener.protocol + (listener.family == "ipv6" ? "6" : "")
                let endpoint = listener.family == "ipv6" ? "[\(listener.address)]:\(listener.port)" : "\(listener.address):\(listener.port)"
                table.rows.append([proto, endpoint, listener.scope, listener.hostNetns ? "host" : String(listener.netns),
                                   utc(listener.opened), ownerNames(listener.owners)])
            }
            print(table.render(), terminator: "")
        }

        /// "name (user)" for each owner in the interval's owners JSON.
        private func ownerNames(_ json: String) -> String {
            struct Owner: Decodable { var name: String; var user: String? }
            let owners = (try? JSONDecoder().decode([Owner].self, from: Data(json.utf8))) ?? []
            return owners.isEmpty ? "-" : owners.map { owner in owner.user.map { "\(owner.name) (\($0))" } ?? owner.name }
                .joined(separator: ", ")
        }
    }
}

/// Seconds since the epoch as `2026-11-25 10:00:00`.
func utc(_ seconds: Int64) -> String {
    let formatter = DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
}
