import PortwardenModel

/// Which listeners a report carries when the host has more than it holds
/// (`WireLimits.listenersPerReport`). Every listener on a port below 1024 or of uid 0
/// goes in full; the room left is shared among the other uids, those with few
/// listeners keeping all of theirs, so one user binding thousands of ports hides only
/// its own. What does not fit is counted per uid.
struct ListenerBudget {
    /// nil when nothing was left out. One per uid, at most `limit` of them: the uids with
    /// the most left out.
    private(set) var leftOut: [ListenerSummary]?
    private(set) var leftOutCount = 0
    /// Listeners of uids too many to itemise in `leftOut` (a host of a hundred thousand uids).
    private(set) var unitemised = 0
    /// The namespaces of the listeners left out: none of them is read in full.
    private(set) var leftOutNamespaces: Set<UInt64> = []
    let total: Int
    let limit: Int

    /// Leaves in `listeners` (display order) those the report carries, in the same order.
    /// Their owners are not read yet, so a listener left out costs no /proc reads; and the
    /// array is trimmed in place, never held twice.
    init(_ listeners: inout [Listener], limit: Int) {
        self.limit = limit
        total = listeners.count
        guard listeners.count > limit else { return }
        let privileged = listeners.indices.filter { Self.isPrivileged(listeners[$0]) }
        var keep = Array(privileged.prefix(limit))
        var others: [UInt32: [Int]] = [:]
        for index in listeners.indices where !Self.isPrivileged(listeners[index]) {
            others[listeners[index].uid, default: []].append(index)
        }
        // Fewest first, each an equal share of the room still left (fairShares).
        let uids = others.sorted { $0.key < $1.key }
        for (entry, take) in zip(uids, fairShares(of: limit - keep.count, among: uids.map(\.value.count))) {
            keep += entry.value.prefix(take)
        }
        keep.sort()

        let kept = Set(keep)
        var byUid: [UInt32: [Listener]] = [:]
        for index in listeners.indices where !kept.contains(index) {
            byUid[listeners[index].uid, default: []].append(listeners[index])
            leftOutNamespaces.insert(listeners[index].netns)
        }
        listeners = keep.map { listeners[$0] }
        leftOutCount = total - listeners.count
        let itemised = byUid.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
            .prefix(limit)
        unitemised = leftOutCount - itemised.reduce(0) { $0 + $1.value.count }
        leftOut = itemised.sorted { $0.key < $1.key }.map { Self.summary(uid: $0.key, $0.value) }
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
                               scopes: [.loopback, .any, .specific].filter { scope in listeners.contains { $0.scope == scope } },
                               ports: WireLimits.cut(ranges.joined(separator: ",")))
    }

    /// The warning that says what was left out, or nil.
    var warning: String? {
        guard let leftOut else { return nil }
        var uids = leftOut.map { "uid \($0.uid): \($0.listeners)" }.joined(separator: ", ")
        if unitemised > 0 { uids += ", and \(unitemised) more of other uids" }
        return "this host has \(total) listeners, more than the \(limit) a report holds: "
            + "every one on a port below 1024 or of uid 0 is sent in full, \(leftOutCount) others are only counted "
            + "in truncated_listeners (\(uids)); the collector closes none of this host's intervals in their namespaces while this lasts"
    }
}
