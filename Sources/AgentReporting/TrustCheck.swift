import OpenSSLTLS
import PortwardenModel

/// What the agent checks before it installs a certificate or a CA bundle a collector
/// handed it (a renewal, an enrollment, a bundle update): an answer from anyone who
/// holds a CA key the agent trusts, or a collector gone wrong, must not leave the host
/// with a pair it cannot use or a bundle that trusts someone else in place of the fleet.
/// Every rule here holds for what a real collector hands out; a refusal leaves the files
/// as they were.
public struct TrustCheck: Sendable {
    /// The CA (from ca.pem) that signed the server certificate of the connection the
    /// answer came over: the bundle must keep it, or the host could not reach that
    /// collector again.
    public let connectionCA: Certificate
    /// Seconds since the epoch.
    public let now: Int64

    /// The longest lifetime a collector gives a host certificate (`--certificate-lifetime`
    /// at most 3650 days), plus the backdating it is issued with.
    public static let maxLifetime: Int64 = 3_650 * 86_400 + Int64(CertificateAuthority.backdating)

    public init(connectionCA: Certificate, now: Int64) {
        self.connectionCA = connectionCA
        self.now = now
    }

    /// The check for an answer that came over a connection whose server presented
    /// `server`, verified against `trusted` (ca.pem).
    public init(server: Certificate?, trusted: [Certificate], now: Int64) throws(TrustRefused) {
        guard let server, let ca = trusted.first(where: { server.isSigned(by: $0) }) else {
            throw TrustRefused("the collector's server certificate is not signed by any CA in ca.pem")
        }
        self.init(connectionCA: ca, now: now)
    }

    /// The CAs in `pem`, when the bundle may replace ca.pem: not empty, keeping the
    /// connection's CA, and — when the host holds a certificate it keeps using (`own`, a
    /// bundle update) — the CA that signed it.
    public func bundle(_ pem: String, keeping own: Certificate? = nil) throws(TrustRefused) -> [Certificate] {
        guard let bundle = try? Certificate.all(pem: pem), !bundle.isEmpty else {
            throw TrustRefused("the CA bundle holds no certificate")
        }
        guard bundle.contains(where: { $0.fingerprint == connectionCA.fingerprint }) else {
            throw TrustRefused("the CA bundle drops \(Self.name(connectionCA)), the CA this collector's connection is trusted by")
        }
        if let own, !bundle.contains(where: { own.isSigned(by: $0) }) {
            throw TrustRefused("the CA bundle drops \(own.issuerCommonName.map { "\"\($0)\"" } ?? "the CA"), "
                               + "which signed this host's certificate")
        }
        return bundle
    }

    /// The certificate in `pem`, when it may be installed: for `key` and `name`, signed
    /// by a CA in `bundle`, valid now and for no longer than a collector gives.
    public func certificate(_ pem: String, for key: PrivateKey, name: String,
                            bundle: [Certificate]) throws(TrustRefused) -> Certificate {
        guard let certificate = try? Certificate(pem: pem) else { throw TrustRefused("the answer holds no certificate") }
        guard certificate.isFor(key) else { throw TrustRefused("the certificate is not for the key this host sent") }
        guard certificate.commonName == name else {
            throw TrustRefused("the certificate names \(certificate.commonName ?? "no host"), not \(name)")
        }
        guard bundle.contains(where: { certificate.isSigned(by: $0) }) else {
            throw TrustRefused("the certificate is not signed by a CA in the bundle handed with it")
        }
        // A collector's clock a little ahead of ours is not a fault: it backdates as much.
        guard certificate.notBefore <= now + Int64(CertificateAuthority.backdating), certificate.notAfter > now else {
            throw TrustRefused("the certificate is not valid now (from \(Timestamp.rfc3339(certificate.notBefore)) "
                               + "until \(Timestamp.rfc3339(certificate.notAfter)))")
        }
        guard certificate.notAfter - certificate.notBefore <= Self.maxLifetime else {
            throw TrustRefused("the certificate is valid for \((certificate.notAfter - certificate.notBefore) / 86_400) days, "
                               + "more than a collector gives (3650)")
        }
        return certificate
    }

    private static func name(_ ca: Certificate) -> String { ca.commonName.map { "\"\($0)\"" } ?? "the CA" }
}

/// An answer the agent would not install, and why; what it has stays in place.
public struct TrustRefused: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
