import ArgumentParser
import CollectorServer
import CollectorStore
import Foundation
import PortwardenModel

/// `portwarden ca …`
struct CA: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "The fleet's certificate authority.", subcommands: [Init.self, ServerCert.self, Rotate.self, RetireOld.self, List.self])

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

        @Flag(help: "Replace an existing CA (every host must then enroll again); a rotation's old CA (ca-old.*) is removed too.")
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
            try HistoryStores.open(database).audit(AuditEntry(
                at: nowSeconds, action: .caInitialized, actor: Operator.current,
                detail: "CA sha256 \(ca.certificate.fingerprint)" + (force ? " (--force: replaced the CA; every host must enroll again)" : "")))
            print("fleet CA:           \(files.caCertificate) (sha256 \(ca.certificate.fingerprint))")
            print("server certificate: \(files.serverCertificate) for \(names.joined(separator: ", "))")
            print("history:            \(PostgresTarget.redacted(database))")
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
                touched: they trust the CA, not this certificate. Restart `serve` to use it. \
                While the CA is being rotated (`ca rotate`), the old CA signs it: hosts that \
                have not renewed yet trust only that one.
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
            try openHistory(state).audit(AuditEntry(at: nowSeconds, action: .serverCertificateIssued, actor: Operator.current,
                                                     detail: "serial \(server.serial) for \(names.joined(separator: ", ")), "
                                                         + "valid until \(Timestamp.rfc3339(server.notAfter))"))
            print("server certificate: \(files.serverCertificate) for \(names.joined(separator: ", ")), "
                  + "serial \(server.serial), valid until \(Timestamp.rfc3339(server.notAfter))")
            print("restart `portwarden serve` to use it")
        }
    }

    /// `portwarden ca rotate`
    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new fleet CA; the old one stays trusted until `ca retire-old`.",
            discussion: """
                Keeps the CA as ca-old.key and ca-old.pem and writes a new ca.key and ca.pem. \
                Restart `serve`: it then trusts hosts' certificates from both CAs, signs new \
                and renewed ones with the new CA, hands hosts both CAs with each certificate, \
                keeps its server certificate (the old CA's, which every host trusts), and \
                asks each host whose certificate is from the old CA to renew (agents running \
                `run` do, at their next report). When every host has renewed, end the overlap \
                with `portwarden ca retire-old`. See docs/OPERATIONS.md, "Rotating the CA".
                """)

        @OptionGroup var state: StateOptions

        func run() throws {
            let files = try state.files()
            let database = try openHistory(state)  // a state directory with its history: not a typo
            let new = try files.rotate(at: nowSeconds)
            try database.audit(AuditEntry(at: nowSeconds, action: .caRotated, actor: Operator.current,
                                          detail: "new CA sha256 \(new.certificate.fingerprint); the old one kept as ca-old.pem"))
            print("new fleet CA: \(files.caCertificate) (sha256 \(new.certificate.fingerprint)); the old one is kept as \(files.oldCACertificate)")
            print("restart `portwarden serve`; hosts renew onto the new CA at their next report; then `portwarden ca retire-old`")
        }
    }

    /// `portwarden ca retire-old`
    struct RetireOld: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "retire-old",
            abstract: "End a CA rotation: stop trusting the old CA.",
            discussion: """
                Refused (exit 1), naming them, while hosts hold certificates in force from the \
                old CA only — they would be cut off — unless --force. Reissues the server \
                certificate from the new CA (for the names the current one carries) and removes \
                ca-old.key and ca-old.pem. Restart `serve`: hosts that renewed trust the new CA \
                (they were handed both); the others must enroll again.
                """)

        @OptionGroup var state: StateOptions

        @Flag(help: "Retire the old CA even though some hosts have not renewed (they must enroll again).")
        var force = false

        func run() throws {
            let files = try state.files()
            let database = try openHistory(state)
            let new = try files.authority()
            let waiting = CollectorFiles.notRenewed(try database.certificates(), newCA: new.certificate.fingerprint, now: nowSeconds)
            if !waiting.isEmpty && !force {
                printError("ca retire-old: \(waiting.count) host\(waiting.count == 1 ? "" : "s") still hold\(waiting.count == 1 ? "s" : "") "
                           + "only the old CA's certificate: \(waiting.joined(separator: ", ")). Let them report (agents renew "
                           + "when asked), or --force to cut them off (they must enroll again)")
                throw ExitCode(1)
            }
            let names = try files.server().subjectAltNames
            guard !names.isEmpty else {
                throw ValidationError("the server certificate names nothing this can read: run `portwarden ca server-cert --name …` after this")
            }
            let server = try files.retireOld(names: names)
            try database.audit(AuditEntry(at: nowSeconds, action: .caOldRetired, actor: Operator.current,
                                          detail: "server certificate \(server.serial) from the new CA"
                                              + (waiting.isEmpty ? "" : "; --force cut off \(waiting.joined(separator: ", "))")))
            print("old CA retired; server certificate reissued from the new CA for \(names.joined(separator: ", ")), "
                  + "serial \(server.serial)")
            if !waiting.isEmpty { print("cut off (enroll them again): \(waiting.joined(separator: ", "))") }
            print("restart `portwarden serve`")
        }
    }
}
