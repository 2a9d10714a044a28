/// An IPv4 or IPv6 address, held inline (no allocation per table row): what the agent
/// reads from /proc, what the collector checks a report's text against, and what a
/// rule's network matches. The one address type of the project.
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

    public var family: AddressFamily { isV6 ? .ipv6 : .ipv4 }

    /// The 128-bit form, IPv4 as `::ffff:a.b.c.d`: a rule's `10.0.0.0/8` then also covers
    /// a dual-stack socket bound to `::ffff:10.0.0.5`.
    public var mapped: (high: UInt64, low: UInt64) {
        switch self {
        case .v4(let a, let b, let c, let d):
            (0, 0x0000_ffff_0000_0000 | UInt64(a) << 24 | UInt64(b) << 16 | UInt64(c) << 8 | UInt64(d))
        case .v6(let high, let low): (high, low)
        }
    }

    public var isUnspecified: Bool {
        switch self {
        case .v4(let a, let b, let c, let d): a | b | c | d == 0
        case .v6(let high, let low): high | low == 0
        }
    }

    /// What a per-address cap counts by (the collector's connection caps and enrollment
    /// limits): an IPv4 address (IPv4-mapped ones included, as a dual-stack listener sees
    /// them) as itself, an IPv6 address by its /64 — one machine commonly holds a whole
    /// /64, and could otherwise take a new address for every connection.
    public var source: IPAddress {
        if let v4 = mappedIPv4 { return v4 }
        if case .v6(let high, _) = self { return .v6(high: high, low: 0) }
        return self
    }

    /// `source` as text: the address, or the /64 (`2001:db8::/64`).
    public var sourceDescription: String { isV6 && mappedIPv4 == nil ? "\(source)/64" : source.description }

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
    /// zero groups compressed, IPv4-mapped addresses as `::ffff:a.b.c.d`. Written into one
    /// buffer: the collector makes it for every listener it is sent.
    public var description: String {
        String(unsafeUninitializedCapacity: 45) { out in
            var n = 0
            func put(_ byte: UInt8) { out[n] = byte; n += 1 }
            func decimal(_ value: UInt8) {
                if value >= 100 { put(0x30 + value / 100) }
                if value >= 10 { put(0x30 + value / 10 % 10) }
                put(0x30 + value % 10)
            }
            func quad(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
                decimal(a); put(UInt8(ascii: ".")); decimal(b); put(UInt8(ascii: ".")); decimal(c); put(UInt8(ascii: ".")); decimal(d)
            }
            switch self {
            case .v4(let a, let b, let c, let d):
                quad(a, b, c, d)
            case .v6(let high, let low):
                if case .v4(let a, let b, let c, let d)? = mappedIPv4 {
                    for byte in "::ffff:".utf8 { put(byte) }
                    quad(a, b, c, d)
                    return n
                }
                func group(_ i: Int) -> UInt16 { UInt16(truncatingIfNeeded: (i < 4 ? high : low) >> (48 - 16 * UInt64(i % 4))) }
                var best = (start: -1, length: 0), run = (start: -1, length: 0)
                for i in 0..<8 {
                    if group(i) == 0 {
                        run = run.start < 0 ? (i, 1) : (run.start, run.length + 1)
                        if run.length > best.length { best = run }
                    } else {
                        run = (-1, 0)
                    }
                }
                if best.length < 2 { best = (-1, 0) }
                var i = 0
                while i < 8 {
                    if i == best.start {
                        put(UInt8(ascii: ":")); put(UInt8(ascii: ":"))
                        i += best.length
                        continue
                    }
                    if i > 0 && i != best.start + best.length { put(UInt8(ascii: ":")) }
                    let g = group(i)
                    var started = false
                    for shift in stride(from: 12, through: 0, by: -4) {
                        let digit = UInt8(truncatingIfNeeded: g >> UInt16(shift)) & 0xF
                        if digit != 0 || started || shift == 0 {
                            put(digit < 10 ? 0x30 + digit : 0x61 + digit - 10)
                            started = true
                        }
                    }
                    i += 1
                }
            }
            return n
        }
    }
}

extension IPAddress {
    /// Parses dotted-quad or RFC 4291 text (`::`, `2001:db8::1`, `::ffff:1.2.3.4`) straight
    /// from its UTF-8 bytes: it runs once per listener, so it makes no substrings and no
    /// arrays. nil for anything else (zones, prefixes, leading zeros past three digits).
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ IPAddress.parse($0) }) else { return nil }
        self = parsed
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        if let v4 = parseIPv4(b) {
            return .v4(UInt8(truncatingIfNeeded: v4 >> 24), UInt8(truncatingIfNeeded: v4 >> 16),
                       UInt8(truncatingIfNeeded: v4 >> 8), UInt8(truncatingIfNeeded: v4))
        }
        return parseIPv6(b)
    }

    private static func parseIPv4(_ b: UnsafeBufferPointer<UInt8>) -> UInt32? {
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, dots = 0
        for c in b {
            if c >= 0x30, c <= 0x39 {
                octet = octet * 10 + UInt32(c - 0x30)
                digits += 1
                guard digits <= 3, octet <= 255 else { return nil }
            } else if c == UInt8(ascii: "."), digits > 0, dots < 3 {
                value = value << 8 | octet
                octet = 0; digits = 0; dots += 1
            } else {
                return nil
            }
        }
        guard dots == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }

    private static func parseIPv6(_ b: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        let n = b.count
        guard n >= 2, n <= 45 else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 8) { groups -> IPAddress? in
            var count = 0, gap = -1, i = 0
            if b[0] == UInt8(ascii: ":") {
                guard b[1] == UInt8(ascii: ":") else { return nil }
                gap = 0; i = 2
            }
            while i < n {
                let fieldStart = i
                var value: UInt32 = 0, digits = 0
                while i < n, let h = hexValue(b[i]) { value = value << 4 | UInt32(h); digits += 1; i += 1 }
                if i < n, b[i] == UInt8(ascii: ".") {
                    // An embedded IPv4 address ends the text and fills two groups.
                    guard count <= 6, let v4 = parseIPv4(UnsafeBufferPointer(rebasing: b[fieldStart...])) else { return nil }
                    groups[count] = UInt16(v4 >> 16); groups[count + 1] = UInt16(v4 & 0xffff)
                    count += 2
                    i = n
                    break
                }
                guard digits >= 1, digits <= 4, count < 8 else { return nil }
                groups[count] = UInt16(value); count += 1
                if i == n { break }
                guard b[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                if i < n, b[i] == UInt8(ascii: ":") {
                    guard gap < 0 else { return nil }
                    gap = count; i += 1
                } else if i == n {
                    return nil
                }
            }
            if gap >= 0 {
                guard count < 8 else { return nil }
                let tail = count - gap
                for k in stride(from: tail - 1, through: 0, by: -1) { groups[8 - tail + k] = groups[gap + k] }
                for k in gap..<(8 - tail) { groups[k] = 0 }
            } else if count != 8 {
                return nil
            }
            var high: UInt64 = 0, low: UInt64 = 0
            for k in 0..<4 { high = high << 16 | UInt64(groups[k]) }
            for k in 4..<8 { low = low << 16 | UInt64(groups[k]) }
            return .v6(high: high, low: low)
        }
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x41...0x46: c - 0x41 + 10
        case 0x61...0x66: c - 0x61 + 10
        default: nil
        }
    }
}
