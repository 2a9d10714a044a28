import CollectorStore
import Foundation
import Policy

// How a policy meets a host as the store keeps it: ingest (through the collector's
// PolicyHolder), re-evaluation, `policy eval --host` and replay all evaluate here.

extension PolicySet {
    /// A subject's tags: this policy's inventory with the operators' edits applied.
    public func tags(for subject: FindingSubject) -> Set<String> {
        HostTags.resolve(inventory: inventory.tags(for: subject.host), edits: subject.tags)
    }

    /// One host's findings: listener order, then rule order.
    public func evaluate(_ subject: FindingSubject) -> [Finding] {
        evaluate(listeners: subject.listeners, host: HostFacts(name: subject.host, tags: tags(for: subject), labels: subject.labels),
                 now: subject.at)
    }

    /// What evaluating `subject` changes, given its open findings by identity.
    public func update(_ subject: FindingSubject, open: [String: OpenFinding]) -> FindingUpdate {
        let (opening, resolving) = FindingDelta.between(produced: evaluate(subject).map(ObservedFinding.init), open: open,
                                                        complete: subject.complete)
        return FindingUpdate(open: opening, resolve: resolving)
    }
}

extension PolicySet {
    /// This policy as the store's evaluator (ingest and re-evaluation under a fixed policy;
    /// the collector's PolicyHolder makes one that follows reloads).
    public var findingEvaluator: FindingEvaluator { { subject, open in self.update(subject, open: open) } }
}
