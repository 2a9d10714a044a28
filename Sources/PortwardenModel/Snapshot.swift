/// One scan of one host: the document an agent sends and the collector stores.
/// Its JSON is the wire format, documented in docs/wire-format.md.
public struct Snapshot: Decodable, Equatable, Sendable {
    /// Bumped only for changes an old reader would misread; new fields keep it.
    public static let currentSchema = 1

    public var schema: Int
    public var host: Host
    /// Counts this host's snapshots (kept across agent restarts); with `host.bootID` it lets
    /// the collector acknowledge a redelivered snapshot without storing it twice. nil for
    /// a snapshot printed by `scan`, which is sent nowhere.
    public var sequence: UInt64?
    /// RFC 3339, UTC, whole seconds: `2026-11-25T14:00:52Z`.
    public var collectedAt: String
    /// False when a line was skipped, a table unreadable or a socket left unresolved.
    public var complete: Bool
    /// False when some process's descriptors could not be read (not root).
    public var ownershipComplete: Bool
    /// The network namespaces (inodes, as listeners' `netns`) whose four tables were read
    /// without a skipped line or an error and none of whose listeners was left out: each is
    /// authoritative about which listeners exist in it, even when `complete` is false.
    /// nil from an agent that does not say (new within schema 1: a missing key is nil).
    public var completeNamespaces: [UInt64]?
    public var warnings: [String]
    public var namespaces: [NetworkNamespace]
    public var listeners: [Listener]
    /// Listeners past `WireLimits.listenersPerReport`, counted per uid instead of sent;
    /// nil when every listener is in `listeners`. New within schema 1: a missing key is nil.
    public var truncatedListeners: [ListenerSummary]?
    /// Sockets that are TCP or UDP by their own account but could not be asked whether
    /// they listen; each is a possible hiding place and says why.
    public var unresolved: [UnresolvedSocket]

    public init(schema: Int = Snapshot.currentSchema, host: Host, sequence: UInt64? = nil, collectedAt: String, complete: Bool,
                ownershipComplete: Bool, completeNamespaces: [UInt64]? = nil, warnings: [String], namespaces: [NetworkNamespace],
                listeners: [Listener], truncatedListeners: [ListenerSummary]? = nil, unresolved: [UnresolvedSocket]) {
        self.schema = schema
        self.host = host
        self.sequence = sequence
        self.collectedAt = collectedAt
        self.complete = complete
        self.ownershipComplete = ownershipComplete
        self.completeNamespaces = completeNamespaces
        self.warnings = warnings
        self.namespaces = namespaces
        self.listeners = listeners
        self.truncatedListeners = truncatedListeners
        self.unresolved = unresolved
    }

    enum CodingKeys: String, CodingKey {
        case schema, host, sequence, complete, warnings, namespaces, listeners, unresolved
        case collectedAt = "collected_at"
        case ownershipComplete = "ownership_complete"
        case completeNamespaces = "complete_namespaces"
        case truncatedListeners = "truncated_listeners"
    }
}

extension Snapshot: WireEncodable {
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.schema); w.value(schema)
        w.key(CodingKeys.host); w.value(host)
        w.key(CodingKeys.sequence); w.value(sequence)
        w.key(CodingKeys.collectedAt); w.value(collectedAt)
        w.key(CodingKeys.complete); w.value(complete)
        w.key(CodingKeys.ownershipComplete); w.value(ownershipComplete)
        w.key(CodingKeys.completeNamespaces); if let completeNamespaces { w.value(completeNamespaces) } else { w.null() }
        w.key(CodingKeys.warnings); w.value(warnings)
        w.key(CodingKeys.namespaces); w.value(namespaces)
        w.key(CodingKeys.listeners); w.value(listeners)
        w.key(CodingKeys.truncatedListeners); if let truncatedListeners { w.value(truncatedListeners) } else { w.null() }
        w.key(CodingKeys.unresolved); w.value(unresolved)
        w.endObject()
    }
}
