import PortwardenModel

/// A rule's `when` or `unless`, compiled: enum cases over ready values (ranges, globs,
/// bitsets), so evaluating one allocates nothing and touches no text but owner names.
indirect enum Condition: Equatable, Sendable {
    case constant(Bool)
    case all([Condition])
    case any([Condition])
    case not(Condition)
    /// Integer facts: each range is inclusive.
    case port([ClosedRange<Int>])
    case uid([ClosedRange<Int>])
    case owners([ClosedRange<Int>])
    case transport(Transport)
    case family(AddressFamily)
    case scope(ExposureScope)
    case foundBy(Discovery)
    case hostNamespace
    case namespaceInode(UInt64)
    /// The bound address is in one of the blocks.
    case address([IPNetwork])
    /// Some owner's field matches one of the patterns.
    case owner(OwnerField, [Glob])
    /// The listener's (port, protocol) is one of these catalogue entries.
    case catalog(PortProtocolSet)
    /// A fact about the host (name, tag, label), decided once per host: an index into
    /// the per-host answers.
    case host(Int)

    func matches(_ l: Listener, _ facts: borrowing ListenerFacts) -> Bool {
        switch self {
        case .constant(let value): return value
        case .all(let parts):
            for part in parts where !part.matches(l, facts) { return false }
            return true
        case .any(let parts):
            for part in parts where part.matches(l, facts) { return true }
            return false
        case .not(let inner): return !inner.matches(l, facts)
        case .port(let ranges): return Self.contains(ranges, Int(l.port))
        case .uid(let ranges): return Self.contains(ranges, Int(l.uid))
        case .owners(let ranges): return Self.contains(ranges, l.programCount)
        case .transport(let t): return l.transport == t
        case .family(let f): return l.family == f
        case .scope(let s): return l.scope == s
        case .foundBy(let d): return l.foundBy == d
        case .hostNamespace: return l.hostNetns
        case .namespaceInode(let inode): return l.netns == inode
        case .address(let networks):
            guard let address = facts.address else { return false }
            for n in networks where n.contains(address) { return true }
            return false
        case .owner(let field, let globs):
            for owner in l.processes {
                guard let value = field.value(of: owner) else { continue }
                for g in globs where g.matches(value) { return true }
            }
            return false
        case .catalog(let set): return set.contains(l.port, l.transport)
        case .host(let index): return facts.host[index]
        }
    }

    private static func contains(_ ranges: [ClosedRange<Int>], _ value: Int) -> Bool {
        for r in ranges where r.contains(value) { return true }
        return false
    }

    /// The ports this condition can be true for, or nil when it does not restrict them.
    /// Conservative: `not` and anything but port and catalogue tests say nil.
    func portSupport() -> PortSet? {
        switch self {
        case .constant(false): return PortSet()
        case .port(let ranges): return PortSet(ranges)
        case .catalog(let set): return set.ports
        case .all(let parts):
            return parts.compactMap { $0.portSupport() }.reduce(nil) { acc, s in acc.map { $0.intersection(s) } ?? s }
        case .any(let parts):
            var union = PortSet()
            for part in parts {
                guard let s = part.portSupport() else { return nil }
                union = union.union(s)
            }
            return union
        default: return nil
        }
    }

    /// The host tests (indices into the policy's) this condition reads, in order.
    var hostTests: [Int] {
        switch self {
        case .host(let index): [index]
        case .all(let parts), .any(let parts): parts.flatMap(\.hostTests)
        case .not(let inner): inner.hostTests
        default: []
        }
    }

    /// Whether any leaf needs the listener's address parsed.
    var needsAddress: Bool {
        switch self {
        case .address: true
        case .all(let parts), .any(let parts): parts.contains { $0.needsAddress }
        case .not(let inner): inner.needsAddress
        default: false
        }
    }
}

/// What one evaluation of a listener knows beyond the listener: the host's answers and
/// the address, parsed once for all rules.
struct ListenerFacts: ~Copyable {
    let host: [Bool]
    let address: IPAddress?
}

/// The owner fields a rule can name.
enum OwnerField: String, CaseIterable, Sendable {
    case name = "process.name", exe = "process.exe", user, unit, container

    func value(of owner: Owner) -> String? {
        switch self {
        case .name: owner.name
        case .exe: owner.exe
        case .user: owner.user
        case .unit: owner.unit
        case .container: owner.container
        }
    }
}

/// A host fact a rule names; answered once per host, before its listeners.
enum HostTest: Equatable, Sendable {
    /// The host name matches (case-insensitively: names are DNS names).
    case name([Glob])
    /// The host carries a matching tag (tags compare case-insensitively).
    case tag([Glob])
    /// The agent declared this label; with patterns, its value matches one.
    case label(String, [Glob]?)

    func answer(_ host: HostFacts) -> Bool {
        switch self {
        case .name(let globs): return globs.contains { $0.matches(host.foldedName) }
        case .tag(let globs): return host.foldedTags.contains { tag in globs.contains { $0.matches(tag) } }
        case .label(let key, let globs):
            guard let value = host.labels[key] else { return false }
            return globs.map { $0.contains { $0.matches(value) } } ?? true
        }
    }
}
