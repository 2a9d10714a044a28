/// `host:port`, or `[v6addr]:port`: where a collector listens or is reached.
public struct HostPort: Equatable, Sendable {
    public let host: String
    public let port: Int

    /// nil when `text` is not host:port; port 0 ("any free port") only when `allowingZero`.
    public init?(_ text: String, allowingZero: Bool = false) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              ((allowingZero ? 0 : 1)...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}
