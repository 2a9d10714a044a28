/// A socket that accepts traffic: TCP in LISTEN, or UDP bound and unconnected.
public struct Listener: Codable, Equatable, Sendable {
    public var transport: Transport
    public var family: AddressFamily
    /// Text form; IPv4-mapped IPv6 stays `::ffff:a.b.c.d` with family ipv6.
    public var address: String
    public var port: UInt16
    public var scope: ExposureScope
    /// Inode of the network namespace the socket lives in.
    public var netns: UInt64
    public var hostNetns: Bool
    public var inode: UInt64
    /// The socket's owner as the kernel records it (the creator's uid).
    public var uid: UInt32
    /// Every process holding the socket; forked workers share one.
    public var processes: [Owner]
    /// Why `processes` is empty (or may be short), when it is.
    public var ownerNote: String?
    /// How the socket was found: `procfs` tables, or `pidfd` for one held in a
    /// namespace no table reached.
    public var foundBy: Discovery

    public init(transport: Transport, family: AddressFamily, address: String, port: UInt16, scope: ExposureScope,
                netns: UInt64, hostNetns: Bool, inode: UInt64, uid: UInt32, processes: [Owner],
                ownerNote: String? = nil, foundBy: Discovery = .procfs) {
        self.transport = transport
        self.family = family
        self.address = address
        self.port = port
        self.scope = scope
        self.netns = netns
        self.hostNetns = hostNetns
        self.inode = inode
        self.uid = uid
        self.processes = processes
        self.ownerNote = ownerNote
        self.foundBy = foundBy
    }

    enum CodingKeys: String, CodingKey {
        case transport = "protocol"
        case family, address, port, scope, netns, inode, uid, processes
        case hostNetns = "host_netns"
        case ownerNote = "owner_note"
        case foundBy = "found_by"
    }
}

extension Listener: WireEncodable {
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.transport); w.value(transport.rawValue)
        w.key(CodingKeys.family); w.value(family.rawValue)
        w.key(CodingKeys.address); w.value(address)
        w.key(CodingKeys.port); w.value(port)
        w.key(CodingKeys.scope); w.value(scope.rawValue)
        w.key(CodingKeys.netns); w.value(netns)
        w.key(CodingKeys.hostNetns); w.value(hostNetns)
        w.key(CodingKeys.inode); w.value(inode)
        w.key(CodingKeys.uid); w.value(uid)
        w.key(CodingKeys.processes); w.value(processes)
        w.key(CodingKeys.ownerNote); w.value(ownerNote)
        w.key(CodingKeys.foundBy); w.value(foundBy.rawValue)
        w.endObject()
    }
}

public enum Transport: String, Codable, Sendable, Comparable {
    case tcp, udp
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

public enum AddressFamily: String, Codable, Sendable, Comparable {
    case ipv4, ipv6
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Who can reach a listener: this host only, every address it has, or one address.
public enum ExposureScope: String, Codable, Sendable {
    case loopback, any, specific
}

public enum Discovery: String, Codable, Sendable {
    case procfs, pidfd
}
