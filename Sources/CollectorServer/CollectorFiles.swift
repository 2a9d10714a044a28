import CollectorStore
import Foundation
import Glibc
import OpenSSLTLS
import PortwardenModel
import StateFiles

/// The collector's state directory:
///
///     ca.key, ca.pem           the fleet CA: signs hosts' certificates (key 0600; on a
///                              collector that does not sign, ca.pem alone)
///     ca-old.key, ca-old.pem   while the CA is rotated (`ca rotate` until `ca retire-old`):
///                              the CA it replaced, still trusted for hosts' certificates,
///                              and the signer of the server certificate (key 0600)
///     server.key, server.pem   the collector's own TLS identity (key 0600)
///     portwarden.sqlite        the history (WAL), and the enrollment secret's digest
public struct CollectorFiles: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public var caKey: String { directory + "/ca.key" }
    public var caCertificate: String { directory + "/ca.pem" }
    public var oldCAKey: String { directory + "/ca-old.key" }
    public var oldCACertificate: String { directory + "/ca-old.pem" }
    public var serverKey: String { directory + "/server.key" }
    public var serverCertificate: String { directory + "/server.pem" }
    public var database: String { directory + "/portwarden.sqlite" }
    /// Where an older release kept the enrollment secret in clear; the database now keeps
    /// only its digest (`importLegacySecret`).
    public var legacyEnrollmentSecret: String { directory + "/enroll.secret" }

    /// Moves an older release's `enroll.secret` into the database as a digest and removes
    /// the file, so hosts holding that secret still enroll. Whether there was one.
    public func importLegacySecret(into database: any HistoryStore, at now: Int64) throws -> Bool {
        guard let text = (try? StateFile.read(legacyEnrollmentSecret))?.trimmingCharacters(in: .whitespacesAndNewlines),
              !text.isEmpty
        else { return false }
        let digest = CredentialText.digest(text)
        if try database.credential(digest: digest) == nil {
            try database.rotateSecret(digest: digest, at: now, by: "upgrade: \(legacyEnrollmentSecret)")
        }
        guard unlink(legacyEnrollmentSecret) == 0 else {
            throw StateFile.Failed(path: legacyEnrollmentSecret, reason: String(cString: strerror(errno)))
        }
        return true
    }

    /// A new fleet CA and a server certificate for `names`, in a directory made 0700.
    /// Refuses to replace an existing CA unless `replacing` — every host's certificate
    /// hangs on it.
    public func initialize(names: [String], replacing: Bool = false) throws -> CertificateAuthority {
        // ca.pem alone is a fleet CA too: the one of a collector whose signing collector has the key.
        for path in [caKey, caCertificate] where !replacing && access(path, F_OK) == 0 {
            throw StateFile.Failed(path: path, reason: "a fleet CA already exists here (--force replaces it, and every host must enroll again)")
        }
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw StateFile.Failed(path: directory, reason: String(cString: strerror(errno)))
        }
        // A directory made beforehand (`mkdir -p`, 0755) would leave the database — the
        // secret's digest, hosts' command lines — readable by everyone: the CA's is 0700.
        if chmod(directory, 0o700) != 0 {
            throw StateFile.Failed(path: directory, reason: "cannot make it 0700: \(String(cString: strerror(errno)))")
        }
        // A rotation's old CA goes too, first: left, `serve` would still trust it — the
        // CA this replaces, whose hosts were to enroll again.
        if replacing { try removeOldAuthority() }
        let ca = try CertificateAuthority.create(commonName: Self.uniqueName())
        try ca.key.write(to: caKey)
        try StateFile.write(try ca.certificate.pem(), to: caCertificate, mode: 0o644)
        try issueServerCertificate(names: names, by: ca)
        return ca
    }

    /// A new server key and certificate for `names` signed by `ca`, replacing the old pair
    /// (hosts are untouched: they trust the CA, not this certificate). `serve` uses it
    /// once restarted.
    @discardableResult
    public func issueServerCertificate(names: [String], by ca: CertificateAuthority) throws -> Certificate {
        let key = try PrivateKey.generate()
        let server = try ca.issue(for: key, commonName: names.first ?? "portwarden", usage: .server(names: names),
                                  lifetime: Self.serverLifetime)
        // The key first: a crash between the two leaves a pair `serve` refuses to load
        // (key and certificate do not match), and running this again mends it.
        try key.write(to: serverKey)
        try StateFile.write(try server.pem(), to: serverCertificate, mode: 0o644)
        return server
    }

    /// 825 days: the most TLS clients have long accepted for a server certificate.
    static let serverLifetime = 825 * 86_400

    /// The server certificate in use.
    public func server() throws -> Certificate { try Certificate(pem: read(serverCertificate)) }

    /// The CA that signs the server certificate: during a rotation the old one, which
    /// hosts that have not renewed yet trust (alone).
    /// Refused, as `authority()` is, when ca.key is not ca.pem's.
    public func serverSigner() throws -> CertificateAuthority {
        let current = try authority()
        return try oldAuthority() ?? current
    }

    /// The CA a rotation replaced, while the overlap lasts; nil otherwise.
    public func oldAuthority() throws -> CertificateAuthority? {
        guard access(oldCACertificate, F_OK) == 0 else { return nil }
        return try pair(oldCACertificate, oldCAKey)
    }

    /// Removes a rotation's old CA (ca-old.key, ca-old.pem), if any.
    func removeOldAuthority() throws {
        for path in [oldCAKey, oldCACertificate] where unlink(path) != 0 && errno != ENOENT {
            throw StateFile.Failed(path: path, reason: String(cString: strerror(errno)))
        }
    }

    /// A CA's common name: hosts' certificates name their issuer by it, so each CA's is
    /// its own (a rotation twice in a second must not make two CAs of one name).
    static func uniqueName(at now: Int64 = Int64(Date().timeIntervalSince1970)) -> String {
        "portwarden fleet CA \(Timestamp.rfc3339(now)) \((0..<4).map { _ in UInt8.random(in: .min ... .max) }.lowercaseHex)"
    }

    /// The CAs hosts are handed to trust (PEM): the CA, then during a rotation the old one.
    public func bundle() throws -> String {
        try read(caCertificate) + ((try oldCA()?.pem()) ?? "")
    }

    /// The fleet CA's certificate, with or without its key: all a collector that does not
    /// sign (`serve --no-signing`) has.
    public func ca() throws -> Certificate { try Certificate(pem: read(caCertificate)) }

    /// The CA a rotation replaced, while the overlap lasts, with or without its key.
    public func oldCA() throws -> Certificate? {
        guard access(oldCACertificate, F_OK) == 0 else { return nil }
        return try Certificate(pem: read(oldCACertificate))
    }

    /// The fleet CA; refused when ca.key is not ca.pem's key (a `ca rotate` cut short
    /// between the two, a restore of one file): what it signed would not verify.
    public func authority() throws -> CertificateAuthority {
        try pair(caCertificate, caKey)
    }

    private func pair(_ certificatePath: String, _ keyPath: String) throws -> CertificateAuthority {
        let ca = CertificateAuthority(certificate: try Certificate(pem: read(certificatePath)), key: try key(keyPath))
        guard ca.certificate.isFor(ca.key) else {
            let next = keyPath == caKey && access(oldCACertificate, F_OK) == 0
                ? "a `portwarden ca rotate` was cut short: run it again to finish the rotation"
                : "restore both files from the same backup (or `portwarden ca init --force`: every host must then enroll again)"
            throw StateFile.Failed(path: keyPath, reason: "this key is not the one of \(certificatePath): \(next)")
        }
        return ca
    }

    /// The server's TLS context: its certificate, clients verified against the fleet CA
    /// (and during a rotation the old one too).
    public func serverContext(clientCertificates: TLSContext.ClientCertificates = .required) throws -> TLSContext {
        let authorities = [try ca()] + [try oldCA()].compactMap { $0 }
        return try TLSContext.server(certificate: Certificate(pem: read(serverCertificate)), key: key(serverKey),
                                     clientCAs: authorities, clientCertificates: clientCertificates)
    }

    private func key(_ path: String) throws -> PrivateKey {
        if path == caKey && access(path, F_OK) != 0 && access(caCertificate, F_OK) == 0 {
            throw StateFile.Failed(path: path, reason: """
                missing: this state directory has the fleet CA's certificate but not its key. A collector that does not \
                sign serves with --no-signing (signing: false in collector.yaml; PostgreSQL only); what signs — serve \
                without it, enroll sign, ca server-cert, ca rotate — runs on the signing collector, which has ca.key
                """)
        }
        if access(path, F_OK) != 0 { _ = try read(path) }  // missing: says to run ca init
        return try PrivateKey.read(from: path)
    }

    private func read(_ path: String) throws -> String {
        do { return try StateFile.read(path) } catch {
            throw StateFile.Failed(path: path, reason: "\(error.reason) (run `portwarden ca init` first)")
        }
    }
}
