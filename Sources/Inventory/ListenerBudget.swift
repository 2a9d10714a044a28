import PortwardenModel

/// Which listeners a report carries when the host has more than it holds
/// (`WireLimits.listenersPerReport`). Every listener on a port below 1024 or of uid 0
/// goes in full; the room left is shared among the other uids, those with few
/// listeners keeping all of theirs, so one user binding thousands of ports hides only
/// its own. What does not fit is counted per uid.
struct ListenerBudget {
    /// In the order given (display order).
    private(set) var kept: [Listener]
    /// nil when nothing was left out.
    private(set) var leftOut: [ListenerSummary]?
    private(set) var leftOutCount = 0
    let limit: Int

    /// `listeners` in display order; their owners are not read yet, so a listener left
    /// out costs no /proc reads.
    init(_ listeners: [Listener], limit: Int) {
        self.limit = limit
        guard listeners.count > limit else {
            kept = listeners
            return
        }
        let privileged = listeners.indices.filter { Self.isPrivileged(listeners[$0]) }
        var keep = Array(privileged.prefix(limit))
        var others: [UInt32: [Int]] = [:]
        for index in listeners.indices where !Self.isPrivileged(listeners[index]) {
            others[listeners[index].uid, default: []].append(index)
        }
        // Fewest first, each an equal share of the room still left: a uid under its share
        // keeps everything and leaves the rest to the others.
        var room = limit - keep.count
        let uids = others.sorted { ($0.value.count, $0.key) < ($1.value.count, $1.key) }
        for (position, entry) in uids.enumerated() {
            let share = room / (uids.count - position)
            let take = min(entry.value.count, share)
            keep += entry.value.prefix(take)
            room -= take
        }
        keep.sort()
        kept = keep.map { listeners[$0] }

        var omitted = Set(listeners.indices)
        omitted.subtract(keep)
        var byUid: [UInt32: [Listener]] = [:]
        for index in omitted.sorted() { byUid[listeners[index].uid, default: []].append(listeners[index]) }
        leftOutCount = omitted.count
        leftOut = byUid.keys.sorted().map { uid in Self.summary(uid: uid, byUid[uid]!) }
    }

    static func isPrivileged(_ listener: Listener) -> Bool { listener.port < 1024 || listener.uid == 0 }

    private static func summary(uid: UInt32, _ listeners: [Listener]) -> ListenerSummary {
        let ports = Set(listeners.map(\.port)).sorted()
        var ranges: [String] = []
        var start = 0
        while start < ports.count {
            var end = start
            while end + 1 < ports.count, ports[end + 1] == ports[end] + 1 { end += 1 }
            ranges.append(end == start ? "\(ports[start])" : "\(ports[start])-\(ports[end])")
            start = end + 1
        }
        return ListenerSummary(uid: uid, listeners: listeners.count,
                               protocols: Set(listeners.map(\.transport)).sorted(),
                               scopes: [.loopback, .specific, .any].filter { scope in listeners.contains { $0.scope == scope } },
                               ports: WireLimits.cut(ranges.joined(separator: ",")))
    }

    /// The warning that says what was left out, or nil.
    var warning: String? {
        guard let leftOut else { return nil }
        let uids = leftOut.map { "uid \($0.uid): \($0.listeners)" }.joined(separator: ", ")
        return "this host has \(kept.count + leftOutCount) listeners, more than the \(limit) a report holds: "
            + "every one on a port below 1024 or of uid 0 is sent in full, \(leftOutCount) others are only counted "
            + "in truncated_listeners (\(uids)); the collector closes none of this host's intervals while this lasts"
    }
}
