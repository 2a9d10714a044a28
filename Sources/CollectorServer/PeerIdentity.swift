import OpenSSLTLS
import PortwardenModel
import Synchronization

/// Who is on the other end of a connection: the verified client certificate's name.
public struct PeerIdentity: Sendable, Equatable {
    /// The certificate's common name: the host's name in the fleet. nil without a
    /// client certificate (only enrollment accepts that).
    public var host: String?
    public var serial: String?
    /// The SHA-256 of the certificate's key: a renewal must bring another.
    public var keyFingerprint: String?
    /// Which CA signed it, by that CA's key (the authority key identifier): while the
    /// fleet CA is rotated, a host whose certificate is from the old one is asked to
    /// renew. Not the CA's name: two CAs may share one. A certificate without the
    /// identifier (none this collector issues) is named by its issuer's name, which
    /// matches no CA's key: asked to renew, it gets one with it.
    public var issuer: String?
    /// When the certificate starts and ends (seconds since the epoch).
    public var notBefore: Int64?
    public var notAfter: Int64?

    init(certificate: Certificate?) {
        host = certificate?.commonName.map(Self.hostName)
        serial = certificate?.serial
        keyFingerprint = certificate?.keyFingerprint
        issuer = certificate.map { $0.authorityKeyIdentifier ?? "name:" + ($0.issuerCommonName ?? "") }
        notBefore = certificate?.notBefore
        notAfter = certificate?.notAfter
    }

    /// Why the certificate is not valid at `now` (expired, or not valid yet), nil when it
    /// is. OpenSSL checks the dates at a full handshake only: a resumed session carries
    /// the certificate it was made with, for as long as the session lives (an hour), so
    /// the collector asks again at every handshake and before it renews one.
    public func outOfValidity(at now: Int64) -> String? {
        guard let serial, let notBefore, let notAfter else { return nil }
        if now > notAfter {
            return "certificate \(serial) of \(host ?? "?") expired at \(Timestamp.rfc3339(notAfter)): "
                + "this host must enroll again (portwarden-agent enroll; an operator approves it)"
        }
        if now < notBefore {
            return "certificate \(serial) of \(host ?? "?") is not valid before \(Timestamp.rfc3339(notBefore)): "
                + "check this host's and the collector's clocks"
        }
        return nil
    }

    /// The host a certificate's common name (or a report's claim) stands for: its normal
    /// form, so `WEB-01` signed by an older release is web-01 — as the v6 migration wrote
    /// it in the store. A name that has no normal form (`localhost` from an older
    /// release) stays as written.
    public static func hostName(_ commonName: String) -> String {
        (try? HostName.normalized(commonName).get()) ?? commonName
    }
}

/// Sent up a connection's pipeline once its handshake is done, before any request byte:
/// how the request handler learns who it is serving.
struct PeerVerified {
    let identity: PeerIdentity
}

/// The identities of the client certificates recent handshakes presented, by the
/// certificate's SHA-256 fingerprint: its name, serial, dates and key fingerprint (an
/// encoding through OpenSSL 3's encoders, ~100 µs) are read once per certificate, not at
/// every handshake — a full handshake parses the same certificate into a new object, so
/// the object cannot be the key. Only the reading is saved: the caller still checks the
/// dates and asks the store about the serial at every handshake. The certificate has
/// been verified against the fleet CA before it is looked up here. Past `capacity`
/// (OpenSSL's session cache holds 20,480) all are dropped.
final class PeerIdentities: Sendable {
    private let entries = Mutex<[String: PeerIdentity]>([:])
    let capacity: Int

    init(capacity: Int = 20_480) {
        self.capacity = capacity
    }

    /// The identity of `certificate`, read from it the first time it is seen.
    func identity(of certificate: Certificate?) -> PeerIdentity {
        guard let certificate else { return PeerIdentity(certificate: nil) }
        let fingerprint = certificate.fingerprint
        if let known = entries.withLock({ $0[fingerprint] }) { return known }
        let identity = PeerIdentity(certificate: certificate)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[fingerprint] = identity
        }
        return identity
    }

    var count: Int { entries.withLock { $0.count } }
}
