import Foundation
internal import GRDB
import PortwardenModel

/// A finding over time: open from the first evaluation that produced it until the first
/// complete evaluation of its host that did not.
public struct FindingInterval: Codable, Equatable, Sendable {
    static let databaseTableName = "findingInterval"
    public var id: Int64?
    public var hostId: Int64
    /// Rule, listener (namespace, protocol, family, address, port) and waiver state.
    public var identity: String
    public var rule: String
    public var severity: String
    public var netns: Int64
    public var `protocol`: String
    public var family: String
    public var address: String
    public var port: Int
    public var owners: String
    public var waived: Bool
    /// Which waiver held it, while waived: rule, host pattern, port, process and expiry.
    public var waiver: String?
    public var policyVersion: String
    public var opened: Int64
    public var closed: Int64?
    /// How it closed (v9): nil when an evaluation no longer produced it (resolved),
    /// `retired` when `hosts forget` closed it — not a fix.
    public var closedAs: String?
}

/// How `hosts forget` marks the intervals it closes.
public enum ClosedAs {
    public static let retired = "retired"
}

/// A finding as the policy engine gave it, in the store's terms: the store knows no
/// policy, only what to keep.
public struct ObservedFinding: Equatable, Sendable {
    /// What makes two evaluations the same finding. The Findings module decides it; the
    /// store only compares it with the open intervals'.
    public var identity: String
    public var rule: String
    public var severity: String
    public var listener: Listener
    /// The waiver's reference when waived; nil when the finding is live.
    public var waiver: String?
    public var policyVersion: String

    public init(identity: String, rule: String, severity: String, listener: Listener, waiver: String?, policyVersion: String) {
        self.identity = identity
        self.rule = rule
        self.severity = severity
        self.listener = listener
        self.waiver = waiver
        self.policyVersion = policyVersion
    }

    func interval(hostId: Int64, opened: Int64) -> FindingInterval {
        FindingInterval(hostId: hostId, identity: identity, rule: rule, severity: severity,
                        netns: Int64(bitPattern: listener.netns), protocol: listener.transport.rawValue,
                        family: listener.family.rawValue, address: listener.address, port: Int(listener.port),
                        owners: OwnerIdentities.json(listener.processes, withCommandLines: true), waived: waiver != nil, waiver: waiver,
                        policyVersion: policyVersion, opened: opened)
    }
}

/// What one evaluation of a host changes: the findings to open and the open ones (by
/// interval id) to resolve. The Findings module decides; the store writes it.
public struct FindingUpdate: Equatable, Sendable {
    public var open: [ObservedFinding]
    public var resolve: [Int64]

    public init(open: [ObservedFinding] = [], resolve: [Int64] = []) {
        self.open = open
        self.resolve = resolve
    }
}

/// The owners of a listener as the history keeps them: no pids, sorted, unique; for a
/// finding with their command lines.
enum OwnerIdentities {
    static func json(_ owners: [Owner], withCommandLines: Bool = false) -> String {
        var identities = owners.map {
            Observation.OwnerIdentity(name: $0.name, exe: $0.exe, user: $0.user, unit: $0.unit, container: $0.container,
                                      cmdline: withCommandLines ? $0.cmdline : nil)
        }
        // Sorted, then equal neighbours dropped; most sockets have one owner, and skip both.
        if identities.count > 1 {
            identities.sort()
            identities = identities.enumerated().filter { $0.offset == 0 || identities[$0.offset - 1] != $0.element }.map(\.element)
        }
        var writer = JSONWriter()
        writer.value(identities)
        return String(decoding: writer.buffer, as: UTF8.self)
    }

    /// The owners `json` holds, each with the listener's `uid`; with their command lines
    /// when `json` kept them.
    static func owners(_ json: String, uid: UInt32) -> [Owner] {
        var reader = WireReader(Array(json.utf8))
        let identities = (try? reader.array(of: Observation.OwnerIdentity.self)) ?? []
        return identities.map {
            Owner(pid: 0, name: $0.name, exe: $0.exe, cmdline: $0.cmdline ?? [], uid: uid, user: $0.user, unit: $0.unit, container: $0.container)
        }
    }
}

/// What operators said about a host's tags, to apply over the inventory's.
public struct TagEdits: Equatable, Sendable {
    public var added: [String] = []
    /// Explicit removals: they win over the inventory.
    public var removed: [String] = []

    public init(added: [String] = [], removed: [String] = []) {
        self.added = added
        self.removed = removed
    }
}

/// One `hosts tag` or `hosts untag`.
struct HostTag: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "hostTag"
    var hostName: String
    var tag: String
    var folded: String
    var assigned: Bool
    var changedAt: Int64

    enum Columns {
        static let hostName = Column(CodingKeys.hostName)
        static let folded = Column(CodingKeys.folded)
        static let assigned = Column(CodingKeys.assigned)
    }
}
