import COpenSSL

/// The fleet's certificate authority: signs the collector's server certificate and
/// every host's client certificate. The collector, not the host, chooses the name.
public struct CertificateAuthority: Sendable {
    public let certificate: Certificate
    public let key: PrivateKey

    public init(certificate: Certificate, key: PrivateKey) {
        self.certificate = certificate
        self.key = key
    }

    /// What a certificate may be used for.
    public enum Usage: Sendable {
        case server(names: [String])  // DNS names or IP addresses for subjectAltName
        case client
    }

    /// A new self-signed CA with a fresh P-256 key.
    public static func create(commonName: String, days: Int = 3650) throws(TLSError) -> CertificateAuthority {
        let key = try PrivateKey.generate()
        let certificate = try build(subject: commonName, publicKey: key.pointer, issuer: nil, signer: key,
                                    from: 0, until: days * 86_400, extensions: [
                                        (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
                                        (NID_key_usage, "critical,keyCertSign,cRLSign"),
                                        (NID_subject_key_identifier, "hash"),
                                    ])
        return CertificateAuthority(certificate: certificate, key: key)
    }

    /// Signs `request`'s key under `commonName` (whatever name the request asked for).
    /// `from` shifts the start of validity in seconds (tests make expired certificates).
    public func issue(_ request: CertificateRequest, commonName: String, usage: Usage,
                      days: Int = 397, from offset: Int = -300) throws(TLSError) -> Certificate {
        try issue(request, commonName: commonName, usage: usage, from: offset, until: offset + days * 86_400)
    }

    /// Signs `request`'s key under `commonName`, valid from five minutes ago (clocks
    /// differ) until `lifetime` seconds from now.
    public func issue(_ request: CertificateRequest, commonName: String, usage: Usage,
                      lifetime: Int) throws(TLSError) -> Certificate {
        try issue(request, commonName: commonName, usage: usage, from: -Self.backdating, until: lifetime)
    }

    /// Signs a key this process holds (the collector's own server key).
    public func issue(for key: PrivateKey, commonName: String, usage: Usage,
                      days: Int = 397, from offset: Int = -300) throws(TLSError) -> Certificate {
        try issue(publicKey: key.pointer, commonName: commonName, usage: usage, from: offset, until: offset + days * 86_400)
    }

    /// Signs a key this process holds, valid from five
    /// minutes ago until `lifetime` seconds from now.
    public func issue(for key: PrivateKey, commonName: String, usage: Usage, lifetime: Int) throws(TLSError) -> Certificate {
        try issue(publicKey: key.pointer, commonName: commonName, usage: usage, from: -Self.backdating, until: lifetime)
    }

    /// Seconds a certificate is valid before it is issued: a host whose clock is a little
    /// behind the collector's still takes it.
    public static let backdating = 300

    private func issue(_ request: CertificateRequest, commonName: String, usage: Usage, from offset: Int,
                       until end: Int) throws(TLSError) -> Certificate {
        guard request.isSelfSigned else { throw TLSError("issuing \(commonName)", detail: "the request's signature does not verify") }
        let publicKey = try required("reading the request's key", X509_REQ_get0_pubkey(request.pointer))
        return try issue(publicKey: publicKey, commonName: commonName, usage: usage, from: offset, until: end)
    }

    private func issue(publicKey: OpaquePointer, commonName: String, usage: Usage, from offset: Int,
                       until end: Int) throws(TLSError) -> Certificate {
        var extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_key_usage, "critical,digitalSignature"),
            (NID_authority_key_identifier, "keyid"),
        ]
        switch usage {
        case .server(let names):
            extensions.append((NID_ext_key_usage, "serverAuth"))
            let alt = names.map { ($0.contains(":") || $0.allSatisfy { $0.isNumber || $0 == "." }) ? "IP:\($0)" : "DNS:\($0)" }
            if !alt.isEmpty { extensions.append((NID_subject_alt_name, alt.joined(separator: ","))) }
        case .client:
            extensions.append((NID_ext_key_usage, "clientAuth"))
        }
        return try Self.build(subject: commonName, publicKey: publicKey, issuer: certificate, signer: key,
                              from: offset, until: end, extensions: extensions)
    }

    private static func build(subject: String, publicKey: OpaquePointer, issuer: Certificate?, signer: PrivateKey,
                              from offset: Int, until end: Int, extensions: [(Int32, String)]) throws(TLSError) -> Certificate {
        let x509 = try required("X509_new", X509_new())
        let certificate = Certificate(taking: x509)
        try check("setting the version", X509_set_version(x509, 2))
        try setRandomSerial(x509)
        X509_gmtime_adj(X509_getm_notBefore(x509), offset)
        X509_gmtime_adj(X509_getm_notAfter(x509), end)
        let name = try X509Name.make(commonName: subject)
        defer { X509_NAME_free(name) }
        try check("setting the subject", X509_set_subject_name(x509, name))
        try check("setting the issuer", X509_set_issuer_name(x509, issuer.map { X509_get_subject_name($0.pointer) } ?? name))
        try check("setting the public key", X509_set_pubkey(x509, publicKey))
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.pointer ?? x509, x509, nil, nil, 0)
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else { throw TLSError("extension \(value)") }
            defer { X509_EXTENSION_free(ext) }
            try check("adding extension \(value)", X509_add_ext(x509, ext, -1))
        }
        guard X509_sign(x509, signer.pointer, EVP_sha256()) > 0 else { throw TLSError("signing \(subject)") }
        return certificate
    }

    /// 128 random bits, positive: serials must be unique per CA and unguessable.
    private static func setRandomSerial(_ x509: OpaquePointer) throws(TLSError) {
        let bn = try required("BN_new", BN_new())
        defer { BN_free(bn) }
        try check("making a serial", BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY))
        let serial = try required("BN_to_ASN1_INTEGER", BN_to_ASN1_INTEGER(bn, nil))
        defer { ASN1_INTEGER_free(serial) }
        try check("setting the serial", X509_set_serialNumber(x509, serial))
    }
}
