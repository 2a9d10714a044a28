import OpenSSLCrypto

extension Certificate {
    /// The name of a CA bundle, the same at both ends whatever the PEM's order, line
    /// endings or comments: the SHA-256 of its certificates' fingerprints, sorted, one a
    /// line. The collector states it on each report's answer; an agent whose ca.pem has
    /// another fetches the bundle (`X-Portwarden-CA`, `GET /v1/ca`).
    public static func bundleDigest(_ certificates: [Certificate]) -> String {
        Digest.sha256(Array(Set(certificates.map(\.fingerprint)).sorted().joined(separator: "\n").utf8))
    }
}
