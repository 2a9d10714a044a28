import NIOCore
import OpenSSLTLS
import Synchronization

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

    public init(host: String?, serial: String? = nil) {
        self.host = host
        self.serial = serial
    }
}

/// Channel → verified identity, filled when a handshake completes and emptied when the
/// channel closes. Request contexts are built from the channel alone, so this is where
/// they find out who sent the request.
public final class PeerRegistry: Sendable {
    private let identities = Mutex<[ObjectIdentifier: PeerIdentity]>([:])

    public init() {}

    /// The registry request contexts read from.
    public static let shared = PeerRegistry()

    func register(_ channel: any Channel, _ identity: PeerIdentity) {
        identities.withLock { $0[ObjectIdentifier(channel)] = identity }
    }

    func forget(_ channel: any Channel) {
        _ = identities.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    public func identity(of channel: any Channel) -> PeerIdentity? {
        identities.withLock { $0[ObjectIdentifier(channel)] }
    }
}
