import PortwardenModel

/// An address block: `10.0.0.0/8`, `fe80::/10`, or one address (a /32 or /128).
struct IPNetwork: Equatable, Hashable, Sendable {
    /// The block's first address in the 128-bit form (`IPAddress.mapped`).
    var high: UInt64
    var low: UInt64
    /// Prefix length over the 128-bit form (an IPv4 /8 is /104 here).
    var prefix: Int

    init(base: IPAddress, prefix: Int) {
        (high, low) = base.mapped
        self.prefix = prefix
    }

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
        guard network.masked(address) == address.mapped else {
            return .failure(NetworkError(message: "'\(text)' has bits set past its /\(isV4 ? prefix - 96 : prefix) prefix"))
        }
        return .success(network)
    }

    func contains(_ address: IPAddress) -> Bool { masked(address) == (high, low) }

    private func masked(_ address: IPAddress) -> (high: UInt64, low: UInt64) {
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? ~0 : ~0 << UInt64(64 - bits) }
        let a = address.mapped
        return (a.high & mask(prefix), a.low & mask(prefix - 64))
    }
}

struct NetworkError: Error {
    var message: String
}
