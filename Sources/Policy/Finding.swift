import PortwardenModel

/// A listener a rule objects to, on one host, under one policy version.
public struct Finding: Equatable, Sendable {
    public var rule: String
    public var severity: Severity
    public var why: String
    public var host: String
    /// The listener with its owners, as the snapshot had it.
    public var listener: Listener
    /// The waiver that holds for it now, if one does: a waived finding is still reported.
    public var waiver: Waiver?
    /// The digest of the policy files that produced it.
    public var policyVersion: String

    public var isWaived: Bool { waiver != nil }
}

extension Finding: WireEncodable {
    enum CodingKeys: String, CodingKey {
        case rule, severity, why, host, listener, waived, waiver
        case policyVersion = "policy_version"
    }

    enum WaiverKeys: String, CodingKey {
        case rule, host, port, process, owner, reason, expires, source
    }

    /// `{"rule", "severity", "why", "host", "listener", "waived", "waiver", "policy_version"}`;
    /// `waiver` is null unless waived.
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.rule); w.value(rule)
        w.key(CodingKeys.severity); w.value(severity.rawValue)
        w.key(CodingKeys.why); w.value(why)
        w.key(CodingKeys.host); w.value(host)
        w.key(CodingKeys.listener); w.value(listener)
        w.key(CodingKeys.waived); w.value(isWaived)
        w.key(CodingKeys.waiver)
        if let waiver {
            w.beginObject()
            w.key(WaiverKeys.rule); w.value(waiver.rule)
            w.key(WaiverKeys.host); w.value(waiver.host)
            w.key(WaiverKeys.port); w.value(waiver.portText)
            w.key(WaiverKeys.process); w.value(waiver.process)
            w.key(WaiverKeys.owner); w.value(waiver.owner)
            w.key(WaiverKeys.reason); w.value(waiver.reason)
            w.key(WaiverKeys.expires); w.value(waiver.expires.description)
            w.key(WaiverKeys.source); w.value(waiver.location.description)
            w.endObject()
        } else {
            w.null()
        }
        w.key(CodingKeys.policyVersion); w.value(policyVersion)
        w.endObject()
    }
}
