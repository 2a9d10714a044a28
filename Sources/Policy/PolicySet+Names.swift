/// A policy entry that treats a host by its name: an inventory pattern (tags), a waiver's
/// host pattern (exemptions), or a rule's `host.name` test. A host that enrolls itself
/// picks its own name, so each of these is something it could grant itself by picking a
/// matching one; the collector has an operator approve such names first.
public struct NameEntry: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// An inventory entry, and the tags it gives.
        case inventory(tags: [String])
        /// A waiver of this rule.
        case waiver(rule: String)
        /// A rule whose `when` or `unless` tests `host.name`.
        case rule(id: String)
    }

    public var kind: Kind
    /// The pattern that matched the name, as written.
    public var pattern: String
    public var location: SourceLocation

    /// A sentence for an operator: which entry, where, and what it does with the name.
    public var description: String {
        let place = "(\(location.file):\(location.line))"
        return switch kind {
        case .inventory(let tags):
            "inventory entry '\(pattern)' \(place) matches this name and tags it \(tags.joined(separator: ", "))"
        case .waiver(let rule): "waiver of \(rule) for '\(pattern)' \(place) matches this name"
        case .rule(let id): "rule \(id) \(place) tests host.name '\(pattern)', which matches this name"
        }
    }
}

extension PolicySet {
    /// Every entry of this policy that singles `name` out by name, in file order: the
    /// inventory's, the waivers' (expired ones too: a replay or a late report may still
    /// fall within them), then the rules'. Empty when the policy treats the name like any
    /// other. Matches as evaluation does, so no entry is missed that would apply.
    public func entries(singlingOut name: String) -> [NameEntry] {
        let folded = name.lowercased()  // as HostFacts reads it
        var found: [NameEntry] = []
        for entry in inventory.entries where entry.pattern.matches(name) {
            found.append(NameEntry(kind: .inventory(tags: entry.tags), pattern: entry.match, location: entry.location))
        }
        for waiver in waivers where waiver.hostGlob.matches(folded) {
            found.append(NameEntry(kind: .waiver(rule: waiver.rule), pattern: waiver.host, location: waiver.location))
        }
        for rule in rules {
            let tests = rule.whenCondition.hostTests + (rule.unlessCondition?.hostTests ?? [])
            let matching = tests.lazy.compactMap { index -> Glob? in
                guard case .name(let globs) = self.hostTests[index] else { return nil }
                return globs.first { $0.matches(folded) }
            }.first
            if let matching {
                found.append(NameEntry(kind: .rule(id: rule.id), pattern: matching.text, location: rule.location))
            }
        }
        return found
    }
}
