import CollectorStore
import Policy
import PortwardenModel

extension ObservedFinding {
    /// A policy's finding as the store records it.
    public init(_ finding: Finding) {
        let waiver = finding.waiver?.reference
        self.init(identity: Self.identity(rule: finding.rule, listener: finding.listener, waiver: waiver), rule: finding.rule,
                  severity: finding.severity.rawValue, listener: finding.listener, waiver: waiver,
                  policyVersion: finding.policyVersion)
    }

    /// What makes two evaluations the same finding: the rule, the listener (namespace,
    /// protocol, family, address, port) and the waiver holding it, if any. Owners and
    /// policy version aside: a restarted daemon, or an edited policy that still objects,
    /// is the same finding; a lapsed waiver is a new one. Stored, so never changed.
    public static func identity(rule: String, listener: Listener, waiver: String?) -> String {
        FindingID.exposure(rule: rule, netns: listener.netns, transport: listener.transport.rawValue, family: listener.family.rawValue,
                           address: listener.address, port: Int(listener.port))
            + " " + (waiver.map { "waived by \($0)" } ?? "live")
    }
}
