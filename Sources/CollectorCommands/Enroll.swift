import ArgumentParser
import CollectorServer
import CollectorStore
import Foundation
import OpenSSLTLS

/// `portwarden enroll …`
struct Enroll: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue host certificates.", subcommands: [Sign.self, Secret.self, Approve.self])

    /// `portwarden enroll secret`
    struct Secret: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make (or replace) the shared enrollment secret and print it.",
            discussion: """
                With a secret, hosts enroll themselves: `portwarden-agent enroll` sends a CSR \
                and the secret, and gets a certificate named after the host. A name that \
                already holds a valid certificate waits for `portwarden enroll approve`. \
                Restart `portwarden serve` to use a new secret; the old one stops working.
                """)

        @OptionGroup var state: StateOptions

        func run() throws {
            print(try state.files().rotateEnrollmentSecret())
        }
    }

    /// `portwarden enroll approve HOST`
    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a waiting enrollment take over a host name.",
            discussion: """
                The host's next enrollment with the same key gets the name, and every older \
                certificate of that host is revoked.
                """)

        @OptionGroup var state: StateOptions

        @Argument(help: "The host name the enrollment asked for.")
        var host: String

        func run() throws {
            let count = try CollectorDatabase.open(path: try state.databasePath())
                .approveEnrollment(host: host, now: Int64(Date().timeIntervalSince1970))
            guard count > 0 else { throw ValidationError("no enrollment for \(host) is waiting") }
            print("approved \(count) waiting enrollment\(count == 1 ? "" : "s") for \(host): it completes at the host's next attempt")
        }
    }

    /// `portwarden enroll sign`: the operator's way in, without an enrollment secret.
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a host's certificate request with the fleet CA.",
            discussion: """
                The host keeps its key; only the CSR travels. The certificate's name is the \
                host's identity for every report it sends: it is --name when given, else the \
                name the CSR asks for.
                """)

        @OptionGroup var state: StateOptions

        @Argument(help: ArgumentHelp("The host's certificate request (PEM).", valueName: "csr"))
        var request: String

        @Option(help: "The host name to put in the certificate (default: the CSR's).")
        var name: String?

        @Option(help: "Days the certificate is valid.")
        var days: Int = 397

        @Option(help: ArgumentHelp("Write the certificate here instead of standard output.", valueName: "file"))
        var output: String?

        func validate() throws {
            guard (1...3650).contains(days) else { throw ValidationError("--days must be between 1 and 3650") }
        }

        func run() throws {
            let csr = try CertificateRequest(pem: FileWriting.read(request))
            guard let name = name ?? csr.commonName, !name.isEmpty else {
                throw ValidationError("\(request) names no host: pass --name")
            }
            let certificate = try state.files().authority().issue(csr, commonName: name, usage: .client, days: days)
            // Recorded so that `portwarden hosts revoke` can find it by host name.
            try CollectorDatabase.open(path: try state.databasePath()).recordIssued(IssuedCertificate(
                serial: certificate.serial, hostName: name, fingerprint: certificate.fingerprint,
                notAfter: certificate.notAfter, issuedAt: Int64(Date().timeIntervalSince1970)))
            if let output {
                try FileWriting.write(try certificate.pem(), to: output, mode: 0o644)
                print("issued \(output) for \(name), serial \(certificate.serial)")
            } else {
                print(try certificate.pem(), terminator: "")
            }
        }
    }
}
