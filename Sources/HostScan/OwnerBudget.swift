import PortwardenModel

/// How many of each socket's holders a report lists, decided from the holder counts alone,
/// before any owner is read. A socket lists at most `WireLimits.ownersPerListener`, the
/// lowest pids; the report at most `WireLimits.ownersPerReport` in all, since a process
/// that opens thousands of listeners and forks hundreds of children would otherwise make
/// a million owner entries (and an agent far over its unit's MemoryMax). When the holders
/// are more than that, the room goes:
///
/// 1. to every socket's first holder (a daemon's parent), privileged sockets first;
/// 2. then to the privileged sockets' other holders (a port below 1024 or uid 0, which no
///    unprivileged user can make, and sockets hidden from every table, which are the
///    ones to look at), shared fairly among them (`fairShares`);
/// 3. then to the other sockets' other holders: shared fairly among their uids, then
///    each uid's share among its sockets.
///
/// So a user forking holders of thousands of sockets crowds out only its own.
struct OwnerBudget {
    /// Per socket, in the order given: how many of its holders are listed.
    let listed: [Int]
    /// Per socket: whether the report's total, not the socket's own bound, cut its list.
    let cutByReport: [Bool]
    /// Holders the report's total left out, over all sockets.
    let leftOutByReport: Int

    /// `uids[i]` is socket i's owner as its table says; nil (a hidden socket) counts as
    /// privileged, as does `privileged[i]`.
    init(holders: [Int], privileged: [Bool], uids: [UInt32?], perSocket: Int = WireLimits.ownersPerListener,
         room: Int = WireLimits.ownersPerReport) {
        let privileged = zip(privileged, uids).map { $0 || $1 == nil }
        let wanted = holders.map { min($0, perSocket) }
        let total = wanted.reduce(0, +)
        guard total > room else {
            listed = wanted
            cutByReport = wanted.map { _ in false }
            leftOutByReport = 0
            return
        }
        var listed = [Int](repeating: 0, count: wanted.count)
        var room = room
        let tiers = [wanted.indices.filter { privileged[$0] }, wanted.indices.filter { !privileged[$0] }]
        for tier in tiers {
            for socket in tier where wanted[socket] > 0 && room > 0 {
                listed[socket] = 1
                room -= 1
            }
        }
        func share(_ room: Int, among sockets: [Int]) -> Int {
            let shares = fairShares(of: room, among: sockets.map { wanted[$0] - listed[$0] })
            for (socket, share) in zip(sockets, shares) { listed[socket] += share }
            return shares.reduce(0, +)
        }
        room -= share(room, among: tiers[0])
        let byUid = Dictionary(grouping: tiers[1]) { uids[$0]! }.sorted { $0.key < $1.key }
        let uidShares = fairShares(of: room, among: byUid.map { $0.value.reduce(0) { $0 + wanted[$1] - listed[$1] } })
        for ((_, sockets), uidShare) in zip(byUid, uidShares) { room -= share(uidShare, among: sockets) }
        self.listed = listed
        cutByReport = zip(listed, wanted).map { $0 < $1 }
        leftOutByReport = total - listed.reduce(0, +)
    }

    /// What a socket held by `holders` processes, `listed` of them listed, says about the
    /// rest (`owner_note`, or an unresolved socket's reason); nil when all are listed.
    static func note(holders: Int, listed: Int, cutByReport: Bool) -> String? {
        guard holders > listed else { return nil }
        let shared = cutByReport
            ? ": a report lists at most \(WireLimits.ownersPerReport) processes in all, shared among its sockets" : ""
        guard listed > 0 else { return "\(holders) processes hold it, none listed\(shared)" }
        return "\(holders - listed) more processes hold it; the first \(listed) by pid are listed\(shared)"
    }

    /// The snapshot's warning when the report's total cut any list, else nil.
    var warning: String? {
        let sockets = cutByReport.filter { $0 }.count
        guard sockets > 0 else { return nil }
        return "owners are listed in part: the sockets' holders are more than the \(WireLimits.ownersPerReport) "
            + "processes a report lists in all, so \(leftOutByReport) holder entries of \(sockets) sockets are left out "
            + "(every socket's first holder, then those on a port below 1024, of uid 0 or hidden from the tables, then the rest "
            + "shared per uid); each owner_note counts its own"
    }
}
