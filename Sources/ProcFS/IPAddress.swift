/// An IPv4 or IPv6 address held as its network-order bytes.
public enum IPAddress: Hashable, Sendable {
    case v4(UInt8, UInt8, UInt8, UInt8)
    case v6([UInt8])  // 16 bytes

    /// The IPv4 address inside `::ffff:a.b.c.d`, if this is one.
    public var mappedIPv4: IPAddress? {
        guard case .v6(let b) = self, b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xff, b[11] == 0xff
        else { return nil }
        return .v4(b[12], b[13], b[14], b[15])
    }

    public var isUnspecified: Bool {
        switch self {
        case .v4(let a, let b, let c, let d): a | b | c | d == 0
        case .v6(let bytes): bytes.allSatisfy { $0 == 0 }
        }
    }

    /// 127.0.0.0/8 or ::1.
    public var isLoopback: Bool {
        switch self {
        case .v4(let a, _, _, _): a == 127
        case .v6(let bytes): bytes[0..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
        }
    }
}

extension IPAddress: CustomStringConvertible {
    /// Dotted quad, or RFC 5952 text: lowercase, the longest run of zero groups
    /// compressed, IPv4-mapped addresses as `::ffff:a.b.c.d`.
    public var description: String {
        switch self {
        case .v4(let a, let b, let c, let d):
            return "\(a).\(b).\(c).\(d)"
        case .v6(let bytes):
            if let v4 = mappedIPv4 { return "::ffff:\(v4)" }
            let groups = (0..<8).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
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

extension IPAddress {
    public var isV6: Bool { if case .v6 = self { true } else { false } }
}
