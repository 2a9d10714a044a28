import CollectorStore
import Policy

// How a policy meets the store: a host's tags, its findings, and a finding as the store
// keeps it. Ingest (through the collector's PolicyHolder), `policy eval` and replay all
// go through here, so a replayed finding pairs with a stored one by the same identity.

extension PolicySet {
    /// A host's tags: the inventory's, with the operators' edits applied.
    public func tags(host: String, edits: TagEdits) -> Set<String> {
        edits.applied(to: inventory.tags(for: host))
    }

    public func tags(for subject: FindingSubject) -> Set<String> { tags(host: subject.host, edits: subject.tags) }

    /// One host's findings: listener order, then rule order.
    public func evaluate(_ subject: FindingSubject) -> [Finding] {
        evaluate(listeners: subject.listeners, host: HostFacts(name: subject.host, tags: tags(for: subject), labels: subject.labels),
                 now: subject.at)
    }

    /// The same, in the store's terms.
    public func findings(for subject: FindingSubject) -> [ObservedFinding] { evaluate(subject).map(ObservedFinding.init) }
}

extension ObservedFinding {
    /// A policy's finding as the store records it.
    public init(_ finding: Finding) {
        self.init(rule: finding.rule, severity: finding.severity.rawValue, listener: finding.listener,
                  waiver: finding.waiver?.reference, policyVersion: finding.policyVersion)
    }
}
