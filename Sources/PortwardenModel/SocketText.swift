/// How people write a socket: `0.0.0.0:22`, `[::]:22`, `tcp`, `tcp6` — the same in the
/// agent's table, the collector's reports and the policy commands.
public enum SocketText {
    public static func endpoint(_ address: String, _ port: some BinaryInteger, ipv6: Bool) -> String {
        ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }

    public static func proto(_ transport: String, ipv6: Bool) -> String { transport + (ipv6 ? "6" : "") }
}

extension Listener {
    public var endpointText: String { SocketText.endpoint(address, port, ipv6: family == .ipv6) }
    public var protocolText: String { SocketText.proto(transport.rawValue, ipv6: family == .ipv6) }
}
