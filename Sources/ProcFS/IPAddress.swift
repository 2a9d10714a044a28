/// An IPv4 or IPv6 address, held inline (no allocation per table row).
public enum IPAddress: Hashable, Sendable {
    case v4(UInt8, UInt8, UInt8, UInt8)
    /// The 16 network-order bytes read as two big-endian halves.
    case v6(high: UInt64, low: UInt64)

    /// An IPv6 address from its 16 bytes in network order.
    public static func v6(_ bytes: [UInt8]) -> IPAddress {
        precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
        let half = { (range: Range<Int>) in bytes[range].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        return .v6(high: half(0..<8), low: half(8..<16))
    }

    /// The IPv4 address inside `::ffff:a.b.c.d`, if this is one.
    public var mappedIPv4: IPAddress? {
        guard case .v6(let high, let low) = self, high == 0, low >> 32 == 0xffff else { return nil }
        return .v4(UInt8(truncatingIfNeeded: low >> 24), UInt8(truncatingIfNeeded: low >> 16),
                   UInt8(truncatingIfNeeded: low >> 8), UInt8(truncatingIfNeeded: low))
    }

    public var isV6: Bool { if case .v6 = self { true } else { false } }

    public var isUnspecified: Bool {
        switch self {
        case .v4(let a, let b, let c, let d): a | b | c | d == 0
        case .v6(let high, let low): high | low == 0
        }
    }

    /// 127.0.0.0/8 or ::1.
    public var isLoopback: Bool {
        switch self {
        case .v4(let a, _, _, _): a == 127
        case .v6(let high, let low): high == 0 && low == 1
        }
    }
}

extension IPAddress: CustomStringConvertible {
    /// Dotted quad, or RFC 5952 text: lowercase, the first longest run of two or more
    /// zero groups compressed, IPv4-mapped addresses as `::ffff:a.b.c.d`.
    public var description: String {
        switch self {
        case .v4(let a, let b, let c, let d):
            return "\(a).\(b).\(c).\(d)"
        case .v6(let high, let low):
            if let v4 = mappedIPv4 { return "::ffff:\(v4)" }
            let groups = (0..<8).map { i in UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> (48 - 16 * UInt64(i % 4))) }
            var best = (start: -1, length: 0), run = (start: -1, length: 0)
            for (i, g) in groups.enumerated() {
                if g == 0 {
                    run = run.start < 0 ? (i, 1) : (run.start, run.length + 1)
                    if run.length > best.length { best = run }
                } else {
                    run = (-1, 0)
                }
            }
            func hex(_ range: Range<Int>) -> String {
                range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
            }
            guard best.length >= 2 else { return hex(0..<8) }
            return hex(0..<best.start) + "::" + hex((best.start + best.length)..<8)
        }
    }
}
