import OpenSSLTLS

/// A fleet PKI made at test time: a CA, the collector's server certificate, and host
/// certificates issued from CSRs the way enrollment issues them.
public struct TestPKI: Sendable {
    public let ca: CertificateAuthority
    public let serverKey: PrivateKey
    public let serverCertificate: Certificate

    public init(caName: String = "portwarden test CA") throws {
        ca = try CertificateAuthority.create(commonName: caName)
        serverKey = try PrivateKey.generate()
        serverCertificate = try ca.issue(for: serverKey, commonName: "collector",
                                         usage: .server(names: ["localhost", "127.0.0.1"]))
    }

    /// A host's key and the certificate the CA issues from its CSR.
    public func host(_ name: String, days: Int = 30, from offset: Int = -300) throws -> (Certificate, PrivateKey) {
        let key = try PrivateKey.generate()
        let request = try CertificateRequest(key: key, commonName: name)
        return (try ca.issue(request, commonName: name, usage: .client, days: days, from: offset), key)
    }

    public func serverContext(_ clientCertificates: TLSContext.ClientCertificates = .required) throws -> TLSContext {
        try TLSContext.server(certificate: serverCertificate, key: serverKey, clientCA: ca.certificate,
                              clientCertificates: clientCertificates)
    }

    public func clientContext(_ identity: (Certificate, PrivateKey)?) throws -> TLSContext {
        try TLSContext.client(trust: ca.certificate, certificate: identity?.0, key: identity?.1)
    }
}
