import Glibc
import OpenSSLTLS
import StateFiles

/// A renewal's files, kept so that a crash at any point leaves a working key and
/// certificate: the new key is written as `host.key.next` before it is sent for
/// signing (a retry after a lost answer asks again with the same key), the certificate
/// as `host.pem.next`, then both are renamed over the old pair — and `finishRenewal`,
/// run whenever the state is prepared, completes or discards a renewal cut short.
extension AgentState {
    var nextKeyPath: String { keyPath + ".next" }
    var nextCertificatePath: String { certificatePath + ".next" }

    /// The key a renewal asks with: the one an earlier, unfinished attempt made, else a
    /// new one, written before it is used.
    func renewalKey() throws -> PrivateKey {
        if access(nextKeyPath, F_OK) == 0, let key = try? PrivateKey.read(from: nextKeyPath, followingLinks: false) {
            return key
        }
        let key = try PrivateKey.generate()
        try key.write(to: nextKeyPath)
        return key
    }

    /// Puts the renewed certificate (for `renewalKey()`) and the CA bundle in place.
    func install(certificate: String, bundle: String) throws {
        try StateFile.write(bundle, to: caPath, mode: 0o644)
        try StateFile.write(certificate, to: nextCertificatePath, mode: 0o644)
        try finishRenewal()
    }

    /// Completes a renewal whose certificate was stored (the key, then the certificate,
    /// each renamed into place), or removes a certificate that fits neither key.
    public func finishRenewal() throws {
        guard let certificate = try? Certificate(pem: StateFile.read(nextCertificatePath, followingLinks: false)) else {
            unlink(nextCertificatePath)
            return
        }
        if let next = try? PrivateKey.read(from: nextKeyPath, followingLinks: false), certificate.isFor(next) {
            try move(nextKeyPath, to: keyPath)
        }
        guard let key = try? PrivateKey.read(from: keyPath, followingLinks: false), certificate.isFor(key) else {
            unlink(nextCertificatePath)
            return
        }
        try move(nextCertificatePath, to: certificatePath)
    }

    private func move(_ from: String, to: String) throws {
        guard rename(from, to) == 0 else { throw StateFile.Failed(path: to, reason: String(cString: strerror(errno))) }
    }
}
