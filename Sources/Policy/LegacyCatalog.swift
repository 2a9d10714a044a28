import PortwardenModel

/// The legacy-port catalogue (`catalog.yaml`): obsolete well-known services, each with
/// its IANA name and why nobody should be running it now.
public struct LegacyCatalog: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public var port: UInt16
        public var protocols: [Transport]
        /// The IANA service name for this port and these protocols (512/tcp is exec, 512/udp biff).
        public var service: String
        public var description: String
        public var why: String
        public var location: SourceLocation
    }

    public let entries: [Entry]
    /// Every (port, protocol) in the catalogue, for `catalog`.
    let all: PortProtocolSet

    public init(entries: [Entry]) {
        self.entries = entries
        var all = PortProtocolSet()
        for e in entries { for t in e.protocols { all.insert(e.port, t) } }
        self.all = all
    }

    /// The entry for a listener's port and protocol, if the catalogue has one.
    public func entry(port: UInt16, transport: Transport) -> Entry? {
        guard all.contains(port, transport) else { return nil }
        return entries.first { $0.port == port && $0.protocols.contains(transport) }
    }

    static func parse(_ reader: PolicyFileReader) -> LegacyCatalog {
        var entries: [Entry] = []
        var seen: [String: SourceLocation] = [:]
        for node in topList(reader, key: "ports", what: "the catalogue") ?? [] {
            guard let f = Fields(node, "a catalogue entry", allowed: ["port", "protocols", "service", "description", "why"], reader: reader) else { continue }
            let port = f.scalar("port", required: true, hint: "a port number, 0-65535").flatMap { n -> UInt16? in
                guard let p = UInt16(n.scalar!.string) else { reader.error("expected a port number 0-65535; got \(describe(n))", at: n); return nil }
                return p
            }
            var protocols: [Transport] = []
            for p in f.list("protocols", required: true, hint: "tcp, udp or both") ?? [] {
                guard let t = p.scalar.flatMap({ Transport(rawValue: $0.string) }) else {
                    reader.error("expected tcp or udp; got \(describe(p))\(suggestion(for: p.scalar?.string ?? "", in: ["tcp", "udp"]))", at: p)
                    continue
                }
                protocols.append(t)
            }
            let service = f.string("service", required: true, hint: "the IANA service name, e.g. openvms-sysipc")
            let description = f.string("description", required: true, hint: "one line saying what the service was")
            let why = f.string("why", required: true, hint: "one line saying why it is legacy")
            guard let port, let service, let description, let why, !protocols.isEmpty else { continue }
            for t in protocols {
                let key = "\(port)/\(t.rawValue)"
                if let first = seen[key] {
                    reader.error("\(key) is already in the catalogue at \(first)", at: node)
                }
                seen[key] = reader.location(of: node)
            }
            entries.append(Entry(port: port, protocols: protocols, service: service, description: description, why: why,
                                 location: reader.location(of: node)))
        }
        return LegacyCatalog(entries: entries)
    }
}
