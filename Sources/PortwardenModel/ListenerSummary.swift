/// Listeners of one uid that a report left out: a host with more listeners than
/// `WireLimits.listenersPerReport` sends every one on a port below 1024 or of uid 0 in
/// full and the others, past the bound, only counted here.
public struct ListenerSummary: Codable, Equatable, Sendable {
    /// The sockets' owner as the kernel records it.
    public var uid: UInt32
    /// How many of its listeners were left out.
    public var listeners: Int
    public var protocols: [Transport]
    public var scopes: [ExposureScope]
    /// Their ports as ascending ranges, `1024-1030,40000-65535`; cut with the marker past
    /// `WireLimits.stringBytes`.
    public var ports: String

    public init(uid: UInt32, listeners: Int, protocols: [Transport], scopes: [ExposureScope], ports: String) {
        self.uid = uid
        self.listeners = listeners
        self.protocols = protocols
        self.scopes = scopes
        self.ports = ports
    }

    enum CodingKeys: String, CodingKey {
        case uid, listeners, protocols, scopes, ports
    }
}

extension ListenerSummary: WireEncodable {
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.uid); w.value(uid)
        w.key(CodingKeys.listeners); w.value(listeners)
        w.key(CodingKeys.protocols); w.value(protocols.map(\.rawValue))
        w.key(CodingKeys.scopes); w.value(scopes.map(\.rawValue))
        w.key(CodingKeys.ports); w.value(ports)
        w.endObject()
    }
}

extension ListenerSummary: WireDecodable {
    public init(wire r: inout WireReader) throws(WireError) {
        var uid: UInt32?, listeners: Int?, protocols: [Transport]?, scopes: [ExposureScope]?, ports: String?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.uid.rawValue: uid = try r.int()
            case CodingKeys.listeners.rawValue: listeners = try r.int()
            case CodingKeys.protocols.rawValue:
                protocols = try r.array { (r: inout WireReader) throws(WireError) in try r.value(Transport.self) }
            case CodingKeys.scopes.rawValue:
                scopes = try r.array { (r: inout WireReader) throws(WireError) in try r.value(ExposureScope.self) }
            case CodingKeys.ports.rawValue: ports = try r.string()
            default: try r.skip()
            }
        }
        guard let uid else { throw r.missing(CodingKeys.uid) }
        guard let listeners else { throw r.missing(CodingKeys.listeners) }
        guard let protocols else { throw r.missing(CodingKeys.protocols) }
        guard let scopes else { throw r.missing(CodingKeys.scopes) }
        guard let ports else { throw r.missing(CodingKeys.ports) }
        self.init(uid: uid, listeners: listeners, protocols: protocols, scopes: scopes, ports: ports)
    }
}
