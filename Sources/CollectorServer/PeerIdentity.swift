import OpenSSLTLS

/// Who is on the other end of a connection: the verified client certificate's name.
public struct PeerIdentity: Sendable, Equatable {
    /// The certificate's common name: the host's name in the fleet. nil without a
    /// client certificate (only enrollment accepts that).
    public var host: String?
    public var serial: String?

    init(certificate: Certificate?) {
        host = certificate?.commonName
        serial = certificate?.serial
    }
}

/// Sent up a connection's pipeline once its handshake is done, before any request byte:
/// how the request handler learns who it is serving.
struct PeerVerified {
    let identity: PeerIdentity
}
