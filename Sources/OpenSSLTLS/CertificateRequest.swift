import COpenSSL
import OpenSSLCrypto

/// A certificate signing request: the host's public key and the name it asks for,
/// signed with its private key, which never leaves the host.
public final class CertificateRequest: @unchecked Sendable {
    let pointer: OpaquePointer  // X509_REQ*

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    deinit { X509_REQ_free(pointer) }

    /// A request for `commonName`, signed by `key`.
    public convenience init(key: PrivateKey, commonName: String) throws(TLSError) {
        let request = try required("X509_REQ_new", X509_REQ_new())
        self.init(taking: request)
        let name = try X509Name.make(commonName: commonName)
        defer { X509_NAME_free(name) }
        try check("setting the request's name", X509_REQ_set_subject_name(request, name))
        try check("setting the request's key", X509_REQ_set_pubkey(request, key.pointer))
        guard X509_REQ_sign(request, key.pointer, EVP_sha256()) > 0 else { throw TLSError("signing the request") }
    }

    public convenience init(pem: String) throws(TLSError) {
        let request = MemoryBIO.reading(pem) { PEM_read_bio_X509_REQ($0, nil, nil, nil) }
        self.init(taking: try required("reading a PEM certificate request", request))
    }

    public func pem() throws(TLSError) -> String {
        try MemoryBIO.text("writing a certificate request") { PEM_write_bio_X509_REQ($0, pointer) }
    }

    public var commonName: String? { X509Name.commonName(X509_REQ_get_subject_name(pointer)) }

    /// SHA-256 of the request's public key (DER), lowercase hex: names the key that asked.
    public var keyFingerprint: String { PublicKeyType.fingerprint(X509_REQ_get0_pubkey(pointer)) }

    /// The kind and size of the request's public key.
    public var keyType: PublicKeyType {
        guard let key = X509_REQ_get0_pubkey(pointer) else { return .other("none") }
        return PublicKeyType(key)
    }

    /// Whether the request was signed by the key it carries (proof its sender holds it).
    public var isSelfSigned: Bool {
        guard let key = X509_REQ_get0_pubkey(pointer) else { return false }
        return X509_REQ_verify(pointer, key) == 1
    }
}
