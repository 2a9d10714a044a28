import PortwardenModel

/// Every (port, protocol) pair as one bit: a catalogue lookup is a shift and a mask.
struct PortProtocolSet: Equatable, Sendable {
    private var words = [UInt64](repeating: 0, count: 2 * 65_536 / 64)

    private static func bit(_ port: UInt16, _ transport: Transport) -> Int {
        Int(port) * 2 + (transport == .tcp ? 0 : 1)
    }

    mutating func insert(_ port: UInt16, _ transport: Transport) {
        let b = Self.bit(port, transport)
        words[b >> 6] |= 1 << UInt64(b & 63)
    }

    func contains(_ port: UInt16, _ transport: Transport) -> Bool {
        let b = Self.bit(port, transport)
        return words[b >> 6] & (1 << UInt64(b & 63)) != 0
    }

    /// The ports that appear with either protocol.
    var ports: PortSet {
        var set = PortSet()
        for port in 0...65_535 where contains(UInt16(port), .tcp) || contains(UInt16(port), .udp) { set.insert(UInt16(port)) }
        return set
    }
}

/// A set of ports as bits; used when compiling, to send each listener only to the rules
/// that can match its port.
struct PortSet: Equatable, Sendable {
    private var words = [UInt64](repeating: 0, count: 65_536 / 64)

    init() {}

    init(_ ranges: [ClosedRange<Int>]) {
        for r in ranges { for p in max(0, r.lowerBound)...min(65_535, max(r.upperBound, 0)) where r.upperBound >= 0 { insert(UInt16(p)) } }
    }

    mutating func insert(_ port: UInt16) { words[Int(port) >> 6] |= 1 << UInt64(port & 63) }

    func contains(_ port: UInt16) -> Bool { words[Int(port) >> 6] & (1 << UInt64(port & 63)) != 0 }

    func intersection(_ other: PortSet) -> PortSet {
        var out = self
        for i in out.words.indices { out.words[i] &= other.words[i] }
        return out
    }

    func union(_ other: PortSet) -> PortSet {
        var out = self
        for i in out.words.indices { out.words[i] |= other.words[i] }
        return out
    }
}
