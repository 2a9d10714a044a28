import COpenSSL
import PortwardenModel

/// An X.509 certificate. portwarden names a host by its certificate's common name.
public final class Certificate: @unchecked Sendable {
    let pointer: OpaquePointer  // X509*

    init(taking pointer: OpaquePointer) { self.pointer = pointer }

    /// Shares a pointer OpenSSL owns (a peer's certificate), taking a reference.
    init(retaining pointer: OpaquePointer) {
        X509_up_ref(pointer)
        self.pointer = pointer
    }

    deinit { X509_free(pointer) }

    public convenience init(pem: String) throws(TLSError) {
        let certificate = MemoryBIO.reading(pem) { PEM_read_bio_X509($0, nil, nil, nil) }
        self.init(taking: try required("reading a PEM certificate", certificate))
    }

    public func pem() throws(TLSError) -> String {
        try MemoryBIO.text("writing a certificate") { PEM_write_bio_X509($0, pointer) }
    }

    /// The subject's common name: for a host certificate, the host's name.
    public var commonName: String? { X509Name.commonName(X509_get_subject_name(pointer)) }

    public var issuerCommonName: String? { X509Name.commonName(X509_get_issuer_name(pointer)) }

    /// The serial number in hex, as `openssl x509 -serial` prints it.
    public var serial: String {
        guard let bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(pointer), nil) else { return "" }
        defer { BN_free(bn) }
        guard let hex = BN_bn2hex(bn) else { return "" }
        defer { pw_openssl_free(hex) }
        return String(cString: hex)
    }

    /// Seconds since the epoch.
    public var notBefore: Int64 { Self.seconds(X509_get0_notBefore(pointer)) }
    public var notAfter: Int64 { Self.seconds(X509_get0_notAfter(pointer)) }

    /// SHA-256 of the DER encoding, lowercase hex.
    public var fingerprint: String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard X509_digest(pointer, EVP_sha256(), &digest, &length) == 1 else { return "" }
        return digest.prefix(Int(length)).lowercaseHex
    }

    /// The DNS names and IP addresses in its subjectAltName, as `CertificateAuthority.Usage.server`
    /// takes them: what a reissued server certificate names again.
    public var subjectAltNames: [String] {
        let index = X509_get_ext_by_NID(pointer, NID_subject_alt_name, -1)
        guard index >= 0, let ext = X509_get_ext(pointer, index),
              let text = try? MemoryBIO.text("reading the subjectAltName", { X509V3_EXT_print($0, ext, 0, 0) })
        else { return [] }
        // "DNS:collector.example, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"
        return text.split(separator: ",").compactMap { part in
            let entry = part.drop { $0 == " " }
            for prefix in ["DNS:", "IP Address:"] where entry.hasPrefix(prefix) {
                return String(entry.dropFirst(prefix.count)).filter { !$0.isWhitespace }
            }
            return nil
        }
    }

    /// The subject key identifier (a CA's: what the certificates it signs name it by), hex.
    public var subjectKeyIdentifier: String? { Self.hex(X509_get0_subject_key_id(pointer)) }
    /// The authority key identifier: the signing CA's subject key identifier, hex. Unlike
    /// the issuer's name, it changes with the CA's key.
    public var authorityKeyIdentifier: String? { Self.hex(X509_get0_authority_key_id(pointer)) }

    private static func hex(_ string: UnsafePointer<ASN1_STRING>?) -> String? {
        guard let string, let bytes = ASN1_STRING_get0_data(string) else { return nil }
        return UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(string))).lowercaseHex
    }

    /// SHA-256 of the certificate's public key (as `CertificateRequest.keyFingerprint`).
    public var keyFingerprint: String { PublicKeyType.fingerprint(X509_get0_pubkey(pointer)) }

    /// Every certificate in `pem`, in order (a CA bundle); at least one.
    public static func all(pem: String) throws(TLSError) -> [Certificate] {
        var certificates: [Certificate] = []
        let blocks = pem.split(separator: "-----END CERTIFICATE-----", omittingEmptySubsequences: true)
        for block in blocks where block.contains("-----BEGIN CERTIFICATE-----") {
            certificates.append(try Certificate(pem: block + "-----END CERTIFICATE-----\n"))
        }
        guard !certificates.isEmpty else { throw TLSError("reading a PEM certificate", detail: "no certificate in the text") }
        return certificates
    }

    /// Whether `issuer`'s key signed this certificate (the signature only: no chain, no dates).
    public func isSigned(by issuer: Certificate) -> Bool {
        guard let key = X509_get0_pubkey(issuer.pointer) else { return false }
        defer { ERR_clear_error() }  // a failed check is an answer, not an error for the next call to report
        return X509_verify(pointer, key) == 1
    }

    /// Whether this certificate is for `key`: its public key is the key's.
    public func isFor(_ key: PrivateKey) -> Bool {
        defer { ERR_clear_error() }
        return X509_check_private_key(pointer, key.pointer) == 1
    }

    private static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64 {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return 0 }
        return Int64(timegm(&parts))
    }
}

enum X509Name {
    static func commonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index),
              let data = X509_NAME_ENTRY_get_data(entry), let bytes = ASN1_STRING_get0_data(data)
        else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(data))), as: UTF8.self)
    }

    /// A new name `CN=commonName`.
    static func make(commonName: String) throws(TLSError) -> OpaquePointer {
        let name = try required("X509_NAME_new", X509_NAME_new())
        guard X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, commonName, -1, -1, 0) == 1 else {
            X509_NAME_free(name)
            throw TLSError("naming \(commonName)")
        }
        return name
    }
}
