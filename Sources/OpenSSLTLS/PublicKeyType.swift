import COpenSSL
import OpenSSLCrypto

/// A public key's algorithm and size: what decides whether a TLS peer will take it.
public enum PublicKeyType: Equatable, Sendable, CustomStringConvertible {
    /// Elliptic curve, on a named curve: `P-256`, `P-384`, `P-521`, else OpenSSL's name
    /// (`secp256k1`); `explicit parameters` when the key names no curve.
    case ec(curve: String)
    case rsa(bits: Int)
    /// Anything else, by OpenSSL's name for it (`ED25519`, `RSA-PSS`, `DSA`).
    case other(String)

    init(_ key: OpaquePointer) {  // EVP_PKEY*
        let type = EVP_PKEY_get0_type_name(key).map { String(cString: $0) } ?? "unknown"
        switch type {
        case "EC":
            var name = [CChar](repeating: 0, count: 80)
            var length = 0
            guard EVP_PKEY_get_group_name(key, &name, name.count, &length) == 1 else {
                self = .ec(curve: "explicit parameters")
                return
            }
            let group = String(decoding: name.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            self = .ec(curve: ["prime256v1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"][group] ?? group)
        case "RSA": self = .rsa(bits: Int(EVP_PKEY_get_bits(key)))
        default: self = .other(type)
        }
    }

    public var description: String {
        switch self {
        case .ec(let curve): "an EC key on \(curve)"
        case .rsa(let bits): "an RSA key of \(bits) bits"
        case .other(let name): "a \(name) key"
        }
    }

    /// Whether our TLS contexts take it as a peer's key — and so what the fleet CA may
    /// certify for a host: EC on P-256 (what `PrivateKey.generate` makes) or P-384, RSA of
    /// 2048 to 4096 bits. OpenSSL's default security level turns away RSA below 2048 bits,
    /// and TLS 1.3 has no signature scheme for other curves (secp256k1); RSA above 4096
    /// bits only slows every handshake. Ed25519 and RSA-PSS keys would work, but nothing
    /// here makes them and no test holds them to it.
    public var isAcceptedForHosts: Bool {
        switch self {
        case .ec(let curve): curve == "P-256" || curve == "P-384"
        case .rsa(let bits): (2048...4096).contains(bits)
        case .other: false
        }
    }
}

extension PublicKeyType {
    /// SHA-256 of a public key's DER (SubjectPublicKeyInfo), lowercase hex: names a key
    /// the same whether it came in a request or a certificate. Empty without a key.
    static func fingerprint(_ key: OpaquePointer?) -> String {  // EVP_PKEY*
        guard let key else { return "" }
        var der: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(key, &der)
        guard length > 0, let der else { return "" }
        defer { pw_openssl_free(der) }
        return Digest.sha256(Array(UnsafeBufferPointer(start: der, count: Int(length))))
    }
}
