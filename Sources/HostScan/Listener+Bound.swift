import PortwardenModel

extension Listener {
    /// A listener bound to `address:port`, owners not yet known; its family, text and
    /// scope follow from the address, host_netns from the host's namespace inode.
    init(_ transport: Transport, boundTo address: IPAddress, port: UInt16, netns: UInt64, hostNetns: UInt64?,
         inode: UInt64, uid: UInt32, foundBy: Discovery) {
        self.init(transport: transport, family: address.family, address: address.description, port: port,
                  scope: ExposureScope(boundTo: address), netns: netns, hostNetns: netns == hostNetns, inode: inode,
                  uid: uid, processes: [], foundBy: foundBy)
    }
}
