import ArgumentParser
import CollectorServer
import CollectorStore
import Foundation
import PortwardenModel

/// `portwarden ca …`
struct CA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "The fleet's certificate authority.", subcommands: [Init.self, ServerCert.self])

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

    /// `portwarden ca server-cert`
    struct ServerCert: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "server-cert",
            abstract: "Reissue the collector's server key and certificate from the fleet CA.",
            discussion: """
                Writes a new server.key (0600) and server.pem, signed by the fleet CA, for the \
                names the current certificate carries (or --name, repeatable). Hosts are not \
                touched: they trust the CA, not this certificate. Restart `serve` to use it.
                """)

        @OptionGroup var state: StateOptions

        @Option(name: .customLong("name"), help: ArgumentHelp(
            "A DNS name or IP address agents use for the collector (repeatable; default: the current certificate's).",
            valueName: "name"))
        var names: [String] = []

        func run() throws {
            let files = try state.files()
            let current = try? files.server()
            let names = self.names.isEmpty ? current?.subjectAltNames ?? [] : self.names
            guard !names.isEmpty else {
                throw ValidationError("the current server certificate names nothing this can read: pass each name with --name")
            }
            let signer = try files.serverSigner()
            let server = try files.issueServerCertificate(names: names, by: signer)
            print("server certificate: \(files.serverCertificate) for \(names.joined(separator: ", ")), "
                  + "serial \(server.serial), valid until \(Timestamp.rfc3339(server.notAfter))")
            print("restart `portwarden serve` to use it")
        }
    }
}
