/// An IP address as 128 bits; IPv4 is held IPv4-mapped (`::ffff:a.b.c.d`), so a rule's
/// `10.0.0.0/8` also covers a dual-stack socket bound to `::ffff:10.0.0.5`.
struct IPAddress: Equatable, Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    init(ipv4: UInt32) { self.init(high: 0, low: 0x0000_ffff_0000_0000 | UInt64(ipv4)) }

    /// Parses the text straight from its UTF-8 bytes: it runs once per listener, so it
    /// makes no substrings and no arrays.
    init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ IPAddress.parse($0) }) else { return nil }
        self = parsed
    }

    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> IPAddress? {
        if let v4 = parseIPv4(b, from: 0) { return IPAddress(ipv4: v4) }
        return parseIPv6(b)
    }

    static func parseIPv4(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> UInt32? {
        var value: UInt32 = 0, octet: UInt32 = 0, digits = 0, dots = 0
        for i in start..<b.count {
            let c = b[i]
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

    static func parseIPv6(_ b: UnsafeBufferPointer<UInt8>) -> IPAddress? {
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
                    guard count <= 6, let v4 = parseIPv4(UnsafeBufferPointer(rebasing: b[fieldStart...]), from: 0) else { return nil }
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
            return IPAddress(high: high, low: low)
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

/// An address block: `10.0.0.0/8`, `fe80::/10`, or one address (a /32 or /128).
struct IPNetwork: Equatable, Hashable, Sendable {
    var base: IPAddress
    /// Prefix length over the 128-bit form (an IPv4 /8 is /104 here).
    var prefix: Int

    /// The block, or why the text is not one.
    static func parse(_ text: String) -> Result<IPNetwork, NetworkError> {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let addressText = String(parts[0])
        guard let address = IPAddress(addressText) else {
            return .failure(NetworkError(message: "'\(addressText)' is not an IPv4 or IPv6 address"))
        }
        let isV4 = !addressText.contains(":")
        var prefix = 128
        if parts.count == 2 {
            guard let p = Int(parts[1]), p >= 0, p <= (isV4 ? 32 : 128) else {
                return .failure(NetworkError(message: "'/\(parts[1])' is not a prefix length (0-\(isV4 ? 32 : 128))"))
            }
            prefix = isV4 ? 96 + p : p
        }
        let network = IPNetwork(base: address, prefix: prefix)
        guard network.masked(address) == address else {
            return .failure(NetworkError(message: "'\(text)' has bits set past its /\(isV4 ? prefix - 96 : prefix) prefix"))
        }
        return .success(network)
    }

    func contains(_ address: IPAddress) -> Bool { masked(address) == base }

    private func masked(_ a: IPAddress) -> IPAddress {
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? ~0 : ~0 << UInt64(64 - bits) }
        return IPAddress(high: a.high & mask(prefix), low: a.low & mask(prefix - 64))
    }
}

struct NetworkError: Error {
    var message: String
}
