import CollectorStore
import Glibc
import OpenSSLTLS
import PortwardenModel
import StateFiles

/// Rotating the fleet CA: `ca rotate` keeps the CA as ca-old.* and makes a new one;
/// during the overlap `serve` trusts both, signs with the new one, hands hosts both, and
/// keeps the server certificate the old one signed; `ca retire-old` reissues the server
/// certificate under the new CA and removes the old one. Restart `serve` after each.
extension CollectorFiles {
    /// Keeps the CA as the old one and makes a new one; the new CA. Refused while a
    /// rotation's overlap lasts. A rotation cut short (the old CA kept, the new one not
    /// written whole) is finished by running it again.
    public func rotate(at now: Int64) throws -> CertificateAuthority {
        let current = try Certificate(pem: StateFile.read(caCertificate))
        if let old = try oldAuthority() {
            guard old.certificate.fingerprint == current.fingerprint else {
                throw StateFile.Failed(path: oldCACertificate, reason: "a rotation is under way already: once every host has renewed, "
                                       + "end it with `portwarden ca retire-old`, then rotate again")
            }
            // Cut short after the old CA was kept: ca.key may already be the new key, so
            // only the new CA is written again; the kept one is left as it is.
        } else {
            let kept = try authority()
            try kept.key.write(to: oldCAKey)
            try StateFile.write(try kept.certificate.pem(), to: oldCACertificate, mode: 0o644)
        }
        let new = try CertificateAuthority.create(commonName: Self.uniqueName(at: now))
        try new.key.write(to: caKey)
        try StateFile.write(try new.certificate.pem(), to: caCertificate, mode: 0o644)
        return new
    }

    /// Ends the overlap: a server certificate for `names` from the new CA, and the old
    /// CA's files removed; the new server certificate.
    public func retireOld(names: [String]) throws -> Certificate {
        guard try oldAuthority() != nil else {
            throw StateFile.Failed(path: oldCACertificate, reason: "no rotation is under way (portwarden ca rotate starts one)")
        }
        let server = try issueServerCertificate(names: names, by: authority())
        try removeOldAuthority()
        return server
    }
}

extension CollectorFiles {
    /// The hosts that hold a certificate still in force (not revoked, not expired, not
    /// renewed) and none from the CA whose certificate has SHA-256 `newCA`: those
    /// `ca retire-old` would cut off. Sorted.
    public static func notRenewed(_ certificates: [IssuedCertificate], newCA: String, now: Int64) -> [String] {
        let inForce = certificates.filter { $0.revokedAt == nil && $0.notAfter > now }
        let renewed = Set(inForce.filter { $0.issuer == newCA }.map(\.hostName))
        return Set(inForce.map(\.hostName)).subtracting(renewed).sorted()
    }
}
