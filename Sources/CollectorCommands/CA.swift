import ArgumentParser
import CollectorServer
import CollectorStore
import Foundation

/// `portwarden ca …`
struct CA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "The fleet's certificate authority.", subcommands: [Init.self])

    /// `portwarden ca init`
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the fleet CA and the collector's server certificate.",
            discussion: """
                Writes ca.key and server.key (mode 0600), ca.pem and server.pem into the state \
                directory (created 0700), and creates the history database there (or where \
                `database:` in --config says). Agents trust ca.pem and nothing else; give it to them \
                at enrollment. The server certificate names the collector as agents will dial \
                it: pass every name and address with --name.
                """)

        @OptionGroup var state: StateOptions

        @Option(name: .customLong("name"), help: ArgumentHelp(
            "A DNS name or IP address agents use for the collector (repeatable; default: this host's name, localhost, 127.0.0.1, ::1).",
            valueName: "name"))
        var names: [String] = []

        @Flag(help: "Replace an existing CA (every host must then enroll again).")
        var force = false

        func run() throws {
            var names = self.names
            if names.isEmpty {
                names = [ProcessInfo.processInfo.hostName, "localhost", "127.0.0.1", "::1"].filter { !$0.isEmpty }
            }
            let files = try state.files()
            let ca = try files.initialize(names: names, replacing: force)
            // The history starts here: every other command but `serve` refuses a state
            // directory without one, so a mistyped --state-dir cannot start an empty fleet.
            let database = try state.databasePath()
            _ = try HistoryStores.open(database)
            print("fleet CA:           \(files.caCertificate) (sha256 \(ca.certificate.fingerprint))")
            print("server certificate: \(files.serverCertificate) for \(names.joined(separator: ", "))")
            print("history:            \(database)")
        }
    }
}
