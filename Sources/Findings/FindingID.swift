import CollectorStore
import OpenSSLCrypto
import Policy
import PortwardenModel

/// A finding's `finding_id` in exports and reports (docs/exports.md): the first 16 hex
/// digits of the SHA-256 of `HOST RULE NETNS PROTOCOL FAMILY [ADDRESS]:PORT`. Made from
/// what the finding is, never from a row id, so every collector and every copy of a
/// database gives the same finding the same id. The waiver is left out (a finding that
/// becomes waived, or whose waiver lapses, is still the same exposure; `waived` says
/// which), and so is when: a finding that resolves and comes back keeps its id, so a
/// SIEM or ticket system sees the same problem return rather than a new one — `opened`
/// tells the intervals apart.
public enum FindingID {
    /// 16 hex digits (64 bits): a million findings have about one chance in 37 million of
    /// any two sharing one.
    public static let length = 16

    public static func of(host: String, rule: String, netns: UInt64, transport: String, family: String, address: String,
                          port: Int) -> String {
        let text = host + " " + exposure(rule: rule, netns: netns, transport: transport, family: family, address: address, port: port)
        return String(Digest.sha256(Array(text.utf8)).prefix(length))
    }

    /// The rule and the listener, as the start of a finding's stored identity: host names,
    /// rule ids, protocols, families and addresses hold no spaces, so the words never run
    /// into each other.
    static func exposure(rule: String, netns: UInt64, transport: String, family: String, address: String, port: Int) -> String {
        "\(rule) \(netns) \(transport) \(family) [\(address)]:\(port)"
    }
}

extension FindingInterval {
    /// This interval's `finding_id`; `host` is its host's name.
    public func findingID(host: String) -> String {
        FindingID.of(host: host, rule: rule, netns: UInt64(bitPattern: netns), transport: self.protocol, family: family,
                     address: address, port: port)
    }
}

extension Finding {
    /// This finding's `finding_id`: a replay's finding has the stored one's.
    public var findingID: String {
        FindingID.of(host: host, rule: rule, netns: listener.netns, transport: listener.transport.rawValue,
                     family: listener.family.rawValue, address: listener.address, port: Int(listener.port))
    }
}
