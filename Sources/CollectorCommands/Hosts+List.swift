import ArgumentParser
import CollectorStore
import Foundation
import Reports

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
            var table = TextTable(header: ["HOST", "LAST REPORT", "STATE", "LISTENING", "LAST SEQUENCE"])
            for (host, stale) in try database.hosts(now: now, staleAfter: window) {
                let listening = try database.openListeners(host: host.name).count
                table.rows.append([host.name, UTCTime.rfc3339(host.lastReceived), stale ? "stale" : "reporting",
                                   stale ? "unknown (\(listening) last seen)" : String(listening),
                                   host.lastSequence.map(String.init) ?? "-"])
            }
            print(table.render(), terminator: "")
        }
    }
}
