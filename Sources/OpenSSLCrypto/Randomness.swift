import COpenSSL
import PortwardenModel

/// Secrets from OpenSSL's random generator (RAND_bytes), not the kernel's directly: under
/// a FIPS provider it is the approved DRBG, which banks' audits ask for.
public enum Randomness {
    /// `count` random bytes as lowercase hex: enrollment secrets and tokens.
    public static func hex(bytes count: Int) throws(Failure) -> String {
        guard let length = Int32(exactly: count), length >= 0 else { throw Failure(reasons: ["\(count) bytes asked"]) }
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, length) == 1 else { throw Failure(reasons: ErrorQueue.drain()) }
        return bytes.lowercaseHex
    }

    /// The generator refused (not seeded, or a FIPS provider failing its self-test).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let reasons: [String]

        public var description: String {
            "OpenSSL's random generator gave no secret" + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))")
                + ": check the OpenSSL configuration (`openssl list -providers`, `openssl rand -hex 8`)"
        }
    }
}
