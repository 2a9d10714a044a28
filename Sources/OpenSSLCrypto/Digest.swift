import COpenSSL
import PortwardenModel

/// The one SHA-256, through the system OpenSSL's EVP (FIPS-capable): the policy version,
/// report bodies, enrollment secrets, certificate requests. Its own module so that Policy
/// can use it without the TLS code.
public enum Digest {
    /// SHA-256 of `bytes`, lowercase hex.
    public static func sha256(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        _ = bytes.withUnsafeBytes { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha256(), nil) }
        return digest.prefix(Int(length)).lowercaseHex
    }
}
