import ArgumentParser
import CommandConventions
import CollectorServer
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenModel
import StateFiles

/// `portwarden enroll …`
struct Enroll: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Issue host certificates, and answer hosts that enroll themselves.",
        discussion: """
            Hosts enroll themselves with the enrollment secret (`enroll secret`) or a scoped \
            token (`enroll token create`). A name that ever held a certificate, that the \
            policy singles out by name (an inventory pattern, a waiver's host, a rule's \
            host.name test) or that an operator tagged waits for an operator: `enroll pending` lists what waits, `enroll \
            approve NAME --fingerprint FP` lets that one key have the name, `enroll refuse` \
            turns a key away. `enroll sign` is the operator's own way, without a secret. \
            Every decision is in `portwarden audit`.
            """,
        subcommands: [Sign.self, Secret.self, Pending.self, Approve.self, Refuse.self, Token.self])

    /// `portwarden enroll sign`: the operator's way in, without an enrollment secret.
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a host's certificate request with the fleet CA.",
            discussion: """
                The host keeps its key; only the CSR travels. The certificate's name is the \
                host's identity for every report it sends: --name when given, else the name \
                the CSR asks for, in normal form (lower case, no trailing dot; localhost and \
                addresses are refused). The name's older certificates are revoked: a name has \
                one valid certificate at a time, and requests of other keys waiting for it are \
                superseded. The key must be one the collector's TLS accepts: EC P-256 (what \
                the agent makes) or P-384, or RSA of 2048 to 4096 bits.
                """)

        @OptionGroup var state: StateOptions

        @Argument(help: ArgumentHelp("The host's certificate request (PEM).", valueName: "csr"))
        var request: String

        @Option(help: "The host name to put in the certificate (default: the CSR's).")
        var name: String?

        @Option(help: ArgumentHelp("How long the certificate is valid: 90d, 12h… (default: certificate_lifetime in the config's enrollment: block, else 90d).",
                                   valueName: "duration"), transform: Seconds.argument)
        var lifetime: Seconds?

        @Option(help: ArgumentHelp("Write the certificate here instead of standard output.", valueName: "file"))
        var output: String?

        func validate() throws {
            let range = EnrollmentSettings.certificateLifetimeRange
            if let lifetime, !range.contains(lifetime.value) {
                throw ValidationError("--lifetime must be from \(Seconds(range.lowerBound)) to \(Seconds(range.upperBound)); got \(lifetime)")
            }
        }

        func run() throws {
            let csr = try CertificateRequest(pem: StateFile.read(request))
            if let advice = csr.keyRefusal { throw ValidationError("\(request): \(advice)") }
            guard let asked = name ?? csr.commonName, !asked.isEmpty else {
                throw ValidationError("\(request) names no host: pass --name")
            }
            let name: String
            switch HostName.normalized(asked) {
            case .success(let normal): name = normal
            case .failure(let error): throw ValidationError("\(error)\(self.name == nil ? " (the CSR's name; pass --name)" : "")")
            }
            let file = try state.file()
            let signing = CollectorApplication.Enrollment(ca: try state.files(file).authority(),
                                                          lifetime: file.enrollment.certificateLifetimeSeconds(lifetime))
            let database = try openHistory(state)
            var pem = ""
            let certificate = try database.recordSigned(by: Operator.current, at: nowSeconds) {
                let (certificate, text) = try signing.issue(csr, name: name, at: nowSeconds)
                pem = text
                return certificate
            }
            if let output {
                try StateFile.write(pem, to: output, mode: 0o644)
                print("issued \(output) for \(name), serial \(certificate.serial)")
            } else {
                print(pem, terminator: "")
            }
        }
    }
}

extension Enroll {
    /// `portwarden enroll secret`
    struct Secret: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make (or replace) the fleet's enrollment secret and print it, once.",
            discussion: """
                With the secret, hosts enroll themselves (`portwarden-agent enroll \
                --secret-file`), under any name that no certificate ever held and that the \
                policy does not single out; other names wait for `enroll approve`. The collector keeps only the \
                secret's SHA-256: it is printed here once — put it in a file for each host (the \
                agent deletes that file once enrolled). The previous secret stops working at \
                once, also for a running `serve` (no restart). --disable turns enrollment by \
                secret off (tokens and `enroll sign` still work). Prefer scoped tokens \
                (`enroll token create`): the secret admits any new name.
                """)

        @OptionGroup var state: StateOptions

        @Flag(help: "Turn enrollment by secret off instead of making a new one.")
        var disable = false

        func run() throws {
            let file = try state.file()
            let database = try openHistory(state, file)
            _ = try state.files(file).importLegacySecret(into: database, at: nowSeconds)
            if disable {
                let was = try database.disableSecret(at: nowSeconds, by: Operator.current)
                print(was ? "enrollment by secret is off; tokens and `enroll sign` still work" : "enrollment by secret was off already")
                return
            }
            let secret = try CredentialText.newSecret()
            try database.rotateSecret(digest: CredentialText.digest(secret), at: nowSeconds, by: Operator.current)
            print(secret)
        }
    }
}
