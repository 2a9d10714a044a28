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
            let window = try staleAfter.map(Int64.init) ?? state.file().staleAfterSeconds
            let rows = try database.hostsWithOpenListeners().map { host, listening in
                let stale = host.isStale(at: now, after: window)
                return [host.name, UTCTime.rfc3339(host.lastReceived), stale ? "stale" : "reporting",
                        stale ? "unknown (\(listening) last seen)" : String(listening), host.lastSequence.map(String.init) ?? "-"]
            }
            print(TextLayout.table(["HOST", "LAST REPORT", "STATE", "LISTENING", "LAST SEQUENCE"], rows, width: .max), terminator: "")
        }
    }
}
