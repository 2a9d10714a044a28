import Foundation
import Glibc
import OpenSSLTLS

/// The collector's state directory:
///
///     ca.key, ca.pem           the fleet CA (key 0600)
///     server.key, server.pem   the collector's own TLS identity (key 0600)
///     portwarden.sqlite        the history (WAL)
public struct CollectorFiles: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public var caKey: String { directory + "/ca.key" }
    public var caCertificate: String { directory + "/ca.pem" }
    public var serverKey: String { directory + "/server.key" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var database: String { directory + "/portwarden.sqlite" }
    /// The shared enrollment secret, when enrollment by secret is on.
    public var enrollmentSecret: String { directory + "/enroll.secret" }

    /// The secret, or nil when there is no secret file (only operators enroll).
    public func readEnrollmentSecret() -> String? {
        (try? FileWriting.read(enrollmentSecret)).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A new random secret (256 bits, hex), written 0600; the old one stops working.
    public func rotateEnrollmentSecret() throws -> String {
        let secret = try Randomness.hex(bytes: 32)
        try FileWriting.write(secret + "\n", to: enrollmentSecret, mode: 0o600)
        return secret
    }

    /// A new fleet CA and a server certificate for `names`, in a directory made 0700.
    /// Refuses to replace an existing CA unless `replacing` — every host's certificate
    /// hangs on it.
    public func initialize(names: [String], replacing: Bool = false) throws -> CertificateAuthority {
        if !replacing && access(caKey, F_OK) == 0 {
            throw FileWriting.Failed(path: caKey, reason: "a fleet CA already exists here (--force replaces it, and every host must enroll again)")
        }
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw FileWriting.Failed(path: directory, reason: String(cString: strerror(errno)))
        }
        let ca = try CertificateAuthority.create(commonName: "portwarden fleet CA")
        try ca.key.write(to: caKey)
        try FileWriting.write(try ca.certificate.pem(), to: caCertificate, mode: 0o644)
        let serverKey = try PrivateKey.generate()
        let server = try ca.issue(for: serverKey, commonName: names.first ?? "portwarden", usage: .server(names: names),
                                  days: 825)
        try serverKey.write(to: self.serverKey)
        try FileWriting.write(try server.pem(), to: serverCertificate, mode: 0o644)
        return ca
    }

    public func authority() throws -> CertificateAuthority {
        try CertificateAuthority(certificate: Certificate(pem: read(caCertificate)), key: PrivateKey(pem: read(caKey)))
    }

    /// The server's TLS context: its certificate, clients verified against the fleet CA.
    public func serverContext(clientCertificates: TLSContext.ClientCertificates = .required) throws -> TLSContext {
        try TLSContext.server(certificate: Certificate(pem: read(serverCertificate)), key: PrivateKey(pem: read(serverKey)),
                              clientCA: Certificate(pem: read(caCertificate)), clientCertificates: clientCertificates)
    }

    private func read(_ path: String) throws -> String {
        do { return try FileWriting.read(path) } catch {
            throw FileWriting.Failed(path: path, reason: "\(error.reason) (run `portwarden ca init` first)")
        }
    }
}
