
/// A reporting host, named by its certificate.
public struct HostRecord: Codable, Equatable, Sendable {
    static let databaseTableName = "host"
    public var id: Int64?
    public var name: String
    public var machineID: String?
    public var bootID: String?
    public var kernel: String?
    public var os: String?
    public var firstSeen: Int64
    public var lastSeen: Int64
    public var lastReceived: Int64
    public var lastSequence: Int64?
    public var complete: Bool
    /// The newest snapshot's labels, a JSON object; nil when it declared none.
    public var labels: String?
    /// When a re-evaluation last opened or resolved one of the host's findings (v8): a
    /// report dated earlier is evaluated as of then.
    public var findingsChangedAt: Int64?
    /// When the collector first stored a report of the host (v9): coverage counts it
    /// from then on, by the collector's clock — a host's clock running ahead changes nothing.
    public var firstReceived: Int64?
    /// `hosts forget` (v9): when, by whom and why; nil while the host is in the fleet.
    public var retiredAt: Int64?
    public var retiredBy: String?
    public var retiredReason: String?
    /// The state digest of the host's newest stored snapshot (`Snapshot.stateDigest`, v10):
    /// what its unchanged reports must name. nil when none is held, or when something
    /// besides a report changed what evaluating it gives (its tags edited).
    public var stateDigest: String? = nil
    /// `lastSequence` when `stateDigest` was last written (v10). A collector of an earlier
    /// release sharing the database (a rolling upgrade) stores reports without writing the
    /// digest: its sequence moved on, the digest no longer says what the host holds.
    public var stateSequence: Int64? = nil
    /// The evaluation stamp the host's findings were last evaluated under (v10): its
    /// policy's digest and the time its next waiver lapses (`EvaluationStamp`).
    public var statePolicy: String? = nil
    public var stateUntil: Int64? = nil
}

/// Consecutive reports of one host (in one boot) that opened or closed no listener.
public struct ReceiptRun: Codable, Equatable, Sendable {
    static let databaseTableName = "receiptRun"
    public var id: Int64?
    public var hostId: Int64
    public var bootID: String?
    public var firstSequence: Int64?
    public var lastSequence: Int64?
    public var lastBodyDigest: String
    public var firstCollected: Int64
    public var lastCollected: Int64
    public var lastReceived: Int64
    public var reports: Int64
    /// When the run's first report was received (v9): the daily "reporting" counts by it.
    public var firstReceived: Int64
}

/// A listener observation: open from the first snapshot that showed it until the first
/// snapshot that did not and could have (complete, or its namespace read in full).
public struct ListenerInterval: Codable, Equatable, Sendable {
    static let databaseTableName = "listenerInterval"
    public var id: Int64?
    public var hostId: Int64
    /// What makes two observations the same listener: namespace, protocol, family,
    /// address, port, the owners' identities (not their pids or command lines, which
    /// change on restart) and, since v8, the socket's uid, discovery and namespace kind.
    public var identity: String
    public var netns: Int64
    public var hostNetns: Bool
    public var `protocol`: String
    public var family: String
    public var address: String
    public var port: Int
    public var scope: String
    /// JSON: the owners without pids, each with the command line it was first seen with
    /// (v8; rows written before have none) — what a finding opened later from this row
    /// shows the people who must find the process.
    public var owners: String
    public var opened: Int64
    public var closed: Int64?
    /// The socket's uid and how it was found (v4; nil in older rows): what a rule may test.
    public var uid: Int64?
    public var foundBy: String?
    /// Since when the host's reports have not shown it (v9): it stays open because its
    /// namespace was not read in full, and what it does now is unknown. nil when the newest
    /// report showed it.
    public var unseenSince: Int64? = nil
    /// Since when its owners have not been seen (v9: their descriptors could not be read):
    /// `owners` are the last known. nil when the newest report showed them.
    public var ownersUnseenSince: Int64? = nil
    /// How it closed (v9): nil when a report no longer showed it, `retired` when
    /// `hosts forget` closed it.
    public var closedAs: String?
}
