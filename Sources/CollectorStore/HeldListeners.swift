import PortwardenModel

/// An open listener interval as ingest compares it with a report: its id, its namespace
/// and its marks (`ListenerInterval.unseenSince`, `ownersUnseenSince`).
struct OpenInterval {
    var id: Int64
    var netns: UInt64
    var unseenSince: Int64?
    var ownersUnseenSince: Int64?
}

/// A snapshot's listeners as the history holds them. A listener the snapshot shows with
/// no owners because its holders' descriptors could not be read (`ownership_complete`
/// false) keeps the owners its open interval last had, marked as last known, rather than
/// becoming a new listener owned by no one — once its namespace is read in full, the
/// interval with owners would otherwise close while the socket is still there. Only for
/// an agent that says which namespaces it read: an older one's report is stored as before.
struct HeldListeners {
    /// The snapshot's observations by identity, less those held as an open interval with
    /// its last known owners.
    var observed: [String: Observation]
    /// Identities of the open intervals held with their last known owners.
    var ownersUnseen: Set<String> = []
    /// What a rule evaluates: the snapshot's listeners, with their last known owners where
    /// held — what re-evaluation and replay find in the stored intervals.
    var listeners: [Listener]

    /// `owned` reads the host's open intervals with owners, by id: only when needed.
    init(_ snapshot: Snapshot, observed: [String: Observation], open: [String: OpenInterval],
         owned: () throws -> [ListenerInterval]) throws {
        self.observed = observed
        listeners = snapshot.listeners
        guard snapshot.completeNamespaces != nil, !snapshot.ownershipComplete else { return }
        let unowned = listeners.indices.filter {
            listeners[$0].processes.isEmpty && open[Observation(listeners[$0]).identity] == nil
        }
        guard !unowned.isEmpty else { return }
        // Rare (a protected process holding a listener), so read whole only then.
        var known: [String: [ListenerInterval]] = [:]
        for interval in try owned() where observed[interval.identity] == nil {
            known[Observation.socket(interval.listener), default: []].append(interval)
        }
        var extra: [Listener] = []
        for index in unowned {
            guard let intervals = known[Observation.socket(listeners[index])] else { continue }
            self.observed[Observation(listeners[index]).identity] = nil
            let shown = listeners[index]
            for (n, interval) in intervals.enumerated() {
                ownersUnseen.insert(interval.identity)
                var held = shown
                held.processes = interval.listener.processes
                held.ownerNote = nil
                if n == 0 { listeners[index] = held } else { extra.append(held) }
            }
        }
        listeners += extra
    }
}
