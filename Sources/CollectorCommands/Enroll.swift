import ArgumentParser
import CollectorServer
import CollectorStore
import Foundation
import OpenSSLTLS

/// `portwarden enroll …`
struct Enroll: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue host certificates.", subcommands: [Sign.self])

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
            let certificate = try state.files.authority().issue(csr, commonName: name, usage: .client, days: days)
            // Recorded so that `portwarden hosts revoke` can find it by host name.
            try CollectorDatabase.open(path: state.files.database).recordIssued(IssuedCertificate(
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
