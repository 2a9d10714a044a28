import Glibc
import PortwardenModel
import ProcFS

/// Joins /proc into a `Snapshot`: every listener in every network namespace, with every
/// process holding it. Tolerant where the parsers are strict: a bad line, an unreadable
/// table or a vanished process becomes a warning and `complete: false`, never a failure.
public struct ListenerScan {
    public let procfs: ProcFS

    public init(procfs: ProcFS = ProcFS()) { self.procfs = procfs }

    /// Fails only when the root itself cannot be listed.
    public func run() throws(ProcFSError) -> Snapshot {
        let collectedAt = Timestamp.rfc3339()
        let pids = try procfs.pids()
        // The host's network is pid 1's; a reader that cannot see pid 1 marks its own.
        let hostNetns = (try? procfs.networkNamespace(of: "1")) ?? (try? procfs.networkNamespace(of: "self"))
        let lanes = scanLanes
        let walk = DescriptorWalk(procfs: procfs, pids: pids, lanes: lanes)
        var members = walk.members
        if let own = try? procfs.networkNamespace(of: "self"), members[own] == nil {
            members[own] = [getpid()]
        }
        let tables = NamespaceTables(procfs: procfs, members: members, hostNetns: hostNetns, lanes: lanes)
        let hidden = HiddenSockets(procfs: procfs, walk: walk, accounted: tables.accounted, hostNetns: hostNetns)

        var listeners = tables.listeners + hidden.listeners
        let holding = Set((listeners.map(\.inode) + hidden.unresolved.map(\.inode)).flatMap(walk.pids(holding:)))
        let (owners, ownerErrors) = OwnerReader.owners(of: holding.sorted(), procfs: procfs, lanes: lanes)
        let why = getuid() == 0 ? "permission denied" : "not root"
        let unownedNote = walk.fdDenied > 0
            ? "owner not visible: the descriptors of \(walk.fdDenied) processes could not be read (\(why))"
            : "no process holds this socket: a kernel socket (nfsd, rpc, wireguard…), or its owner exited during the scan"
        for i in listeners.indices {
            listeners[i].processes = walk.pids(holding: listeners[i].inode).compactMap { owners[$0] }
            if listeners[i].processes.isEmpty { listeners[i].ownerNote = unownedNote }
        }
        listeners.sort(by: Listener.displayOrder)
        let unresolved = hidden.unresolved.map {
            UnresolvedSocket(inode: $0.inode, kind: $0.kind,
                             processes: walk.pids(holding: $0.inode).compactMap { owners[$0] }, reason: $0.reason)
        }

        var namespaces = tables.namespaces
        for listener in hidden.listeners where !namespaces.contains(where: { $0.inode == listener.netns }) {
            namespaces.append(NetworkNamespace(inode: listener.netns, host: false, processes: 0, tablesFrom: nil))
        }

        // Gaps: something that may hide a listener. Each makes the snapshot incomplete.
        var gaps = (tables.parseErrors + ownerErrors).map { "skipped \($0)" } + tables.failures
        gaps += unresolved.map { "socket \($0.inode) (\($0.kind ?? "unknown kind")) could not be resolved: \($0.reason)" }
        if walk.nsDenied > 0 {
            gaps.append("the network namespaces of \(walk.nsDenied) processes could not be read (\(why)): listeners in other namespaces may be missing")
        }
        var warnings = gaps
        if walk.fdDenied > 0 {
            warnings.append("ownership is incomplete: running as uid \(getuid()), the descriptors of \(walk.fdDenied) processes could not be read (\(why))")
        }
        return Snapshot(
            host: Host.read(procfs: procfs), collectedAt: collectedAt,
            complete: gaps.isEmpty,
            ownershipComplete: walk.fdDenied == 0, warnings: warnings, namespaces: namespaces,
            listeners: listeners, unresolved: unresolved)
    }
}

extension Listener {
    /// Port first, as people look for ports; then the rest for a stable order.
    public static func displayOrder(_ a: Listener, _ b: Listener) -> Bool {
        (a.port, a.transport, a.family, a.address, a.netns, a.inode)
            < (b.port, b.transport, b.family, b.address, b.netns, b.inode)
    }
}
