import NIOCore
import PortwardenModel

extension IPAddress {
    /// A peer's address as NIO gives it; nil for a Unix socket or none.
    init?(_ address: SocketAddress?) {
        switch address {
        case .v4(let v4)?:
            let bytes = withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
            self = .v4(bytes[0], bytes[1], bytes[2], bytes[3])
        case .v6(let v6)?:
            self = .v6(withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) })
        default:
            return nil
        }
    }
}
