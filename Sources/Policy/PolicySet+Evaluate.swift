import Foundation
import PortwardenModel

/// What a rule may know about a host: its name, the collector's tags for it, and the
/// labels its agent declared (which only rules that name a label ever read).
public struct HostFacts: Sendable {
    public var name: String
    public var tags: Set<String>
    public var labels: [String: String]
    let foldedName: String
    let foldedTags: [String]

    public init(name: String, tags: Set<String>, labels: [String: String] = [:]) {
        self.name = name
        self.tags = tags
        self.labels = labels
        foldedName = name.lowercased()
        foldedTags = tags.map { $0.lowercased() }
    }
}

extension PolicySet {
    /// The findings for one snapshot (its host's labels included); `tags` are the host's
    /// collector-side tags (see `inventory.tags(for:)`), `now` decides which waivers hold.
    public func evaluate(snapshot: Snapshot, tags: Set<String>, now: Date) -> [Finding] {
        evaluate(listeners: snapshot.listeners,
                 host: HostFacts(name: snapshot.host.hostname, tags: tags, labels: snapshot.host.labels ?? [:]), now: now)
    }

    /// The findings for a host's listeners: listener order, then rule order.
    public func evaluate(listeners: [Listener], host: HostFacts, now: Date) -> [Finding] {
        let answers = hostTests.map { $0.answer(host) }
        let today = Day(now)
        var findings: [Finding] = []
        for listener in listeners {
            let facts = ListenerFacts(host: answers, address: needsAddress ? IPAddress(listener.address) : nil)
            for index in rulesByPort[Int(listener.port)] {
                guard conditions[index].when.matches(listener, facts),
                      !(conditions[index].unless?.matches(listener, facts) ?? false) else { continue }
                let rule = rules[index]
                let waiver = waiversByRule[rule.id]?.first {
                    $0.isActive(on: today) && $0.covers(host: host.foldedName, listener: listener)
                }
                findings.append(Finding(rule: rule.id, severity: rule.severity, why: rule.why, host: host.name,
                                        listener: listener, waiver: waiver, policyVersion: digest))
            }
        }
        return findings
    }

    /// The first day after `now` on which a waiver in force today lapses, if any: when a
    /// store of finding intervals should evaluate again even if no report arrives.
    public func nextWaiverExpiry(after now: Date) -> Date? {
        let today = Day(now)
        return waivers.filter { $0.isActive(on: today) }.map(\.expires.end).min()
    }
}
