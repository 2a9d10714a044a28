import PortwardenModel
import ProcFS

extension ExposureScope {
    /// An IPv4-mapped address is judged by the IPv4 address inside it.
    public init(boundTo address: IPAddress) {
        let effective = address.mappedIPv4 ?? address
        if effective.isUnspecified {
            self = .any
        } else if effective.isLoopback {
            self = .loopback
        } else {
            self = .specific
        }
    }
}

extension Listener {
    /// A listener bound to `address:port`, owners not yet known; its family, text and
    /// scope follow from the address, host_netns from the host's namespace inode.
    init(_ transport: Transport, boundTo address: IPAddress, port: UInt16, netns: UInt64, hostNetns: UInt64?,
         inode: UInt64, uid: UInt32, foundBy: Discovery) {
        self.init(transport: transport, family: address.isV6 ? .ipv6 : .ipv4, address: address.description, port: port,
                  scope: ExposureScope(boundTo: address), netns: netns, hostNetns: netns == hostNetns, inode: inode,
                  uid: uid, processes: [], foundBy: foundBy)
    }
}
