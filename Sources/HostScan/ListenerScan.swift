import Glibc
import PortwardenModel
import ProcFS

/// Joins /proc into a `Snapshot`: every listener in every network namespace, with every
/// process holding it. Tolerant where the parsers are strict: a bad line, an unreadable
/// table or a vanished process becomes a warning and `complete: false`, never a failure.
/// The snapshot is within every bound of `WireLimits`, and what processes chose to show
/// is redacted, before anything outside the scan sees it.
public struct ListenerScan {
    public let procfs: ProcFS
    public let redaction: Redaction
    /// Socket descriptors the walk keeps before it only counts (`DescriptorWalk.Room`).
    let descriptorRoom: Int

    public init(procfs: ProcFS = ProcFS(), redaction: Redaction = Redaction()) {
        self.init(procfs: procfs, redaction: redaction, descriptorRoom: DescriptorWalk.Room().limit)
    }

    init(procfs: ProcFS, redaction: Redaction, descriptorRoom: Int) {
        self.procfs = procfs
        self.redaction = redaction
        self.descriptorRoom = descriptorRoom
    }

    /// Fails only when the root itself cannot be listed.
    public func run() throws(ProcFSError) -> Snapshot {
        let collectedAt = Timestamp.rfc3339()
        let pids = try procfs.pids()
        // The host's network is pid 1's; a reader that cannot see pid 1 marks its own.
        let hostNetns = (try? procfs.networkNamespace(of: "1")) ?? (try? procfs.networkNamespace(of: "self"))
        let lanes = scanLanes
        var (walk, tables) = readAll(pids: pids, hostNetns: hostNetns, lanes: lanes)
        let hidden = HiddenSockets(procfs: procfs, walk: walk, accounted: tables.accounted, hostNetns: hostNetns)

        var listeners = tables.listeners
        tables.listeners = []  // one copy of thousands of listeners, not two
        listeners += hidden.listeners
        Listener.sortForDisplay(&listeners)
        // Bounded before any owner is read: a listener left out costs no reads.
        let budget = ListenerBudget(&listeners, limit: WireLimits.listenersPerReport)
        let hiddenUnresolved = hidden.unresolved.prefix(WireLimits.unresolvedPerReport)

        // Bounded before any owner is read: how many of each socket's holders, lowest pids
        // first, within the bounds per socket and per report; then just those pids.
        let socketInodes = listeners.map(\.inode) + hiddenUnresolved.map(\.inode)
        let holderCounts = socketInodes.map(walk.holderCount(of:))
        let owners = OwnerBudget(holders: holderCounts,
                                 privileged: listeners.map(ListenerBudget.isPrivileged) + hiddenUnresolved.map { _ in true },
                                 uids: listeners.map(\.uid) + hiddenUnresolved.map { _ in nil })
        let lists = walk.lowestPids(holding: socketInodes, counts: owners.listed, procfs: procfs)
        let found = OwnerReader.owners(of: Set(lists.joined()).sorted(), procfs: procfs, redaction: redaction, lanes: lanes)
        // Sockets listing the same processes share one owners array (a daemon's eleven
        // sockets, one array; 4,000 sockets of the same forked holders, one): a busy
        // host's snapshot stays small, and trimming works per array (ReportTrimming).
        var shared: [[Int32]: [Owner]] = [:]
        func listing(_ socket: Int) -> (owners: [Owner], note: String?) {
            let pids = lists[socket]
            let listed = shared[pids] ?? pids.compactMap { found.owners[$0] }
            shared[pids] = listed
            return (listed, OwnerBudget.note(holders: holderCounts[socket], listed: owners.listed[socket],
                                             cutByReport: owners.cutByReport[socket]))
        }
        let why = getuid() == 0 ? "permission denied" : "not root"
        let unownedNote = walk.fdDenied > 0
            ? "owner not visible: the descriptors of \(walk.fdDenied) processes could not be read (\(why))"
            : "no process holds this socket: a kernel socket (nfsd, rpc, wireguard…), or its owner exited during the scan"
        for i in listeners.indices {
            let (processes, note) = listing(i)
            listeners[i].processes = processes
            listeners[i].ownerNote = note ?? (processes.isEmpty ? unownedNote : nil)
        }
        let unresolved = hiddenUnresolved.enumerated().map { index, socket in
            let (processes, note) = listing(listeners.count + index)
            return UnresolvedSocket(inode: socket.inode, kind: WireLimits.cut(socket.kind), processes: processes,
                                    reason: WireLimits.cut([socket.reason, note].compactMap { $0 }.joined(separator: "; ")))
        }

        var namespaces = walk.members.keys.sorted().map {
            NetworkNamespace(inode: $0, host: $0 == hostNetns, processes: walk.members[$0]!.count,
                             tablesFrom: tables.readFrom[$0])
        }
        for listener in hidden.listeners where !namespaces.contains(where: { $0.inode == listener.netns }) {
            namespaces.append(NetworkNamespace(inode: listener.netns, host: false, processes: 0, tablesFrom: nil))
        }
        let namespacesSeen = namespaces.count
        namespaces = ReportBounds.namespaces(namespaces, holding: listeners)
        // Authoritative about their listeners even when something elsewhere was hidden: a
        // collector closes what is gone from these (docs/wire-format.md, "Completeness").
        let readInFull = tables.readInFull.subtracting(budget.leftOutNamespaces)
        let completeNamespaces = namespaces.map(\.inode).filter(readInFull.contains)

        // Gaps: something that may hide a listener. Each makes the snapshot incomplete.
        var gaps = (tables.parseErrors + found.errors).map { "skipped \($0)" } + tables.failures
        gaps += unresolved.map { "socket \($0.inode) (\($0.kind ?? "unknown kind")) could not be resolved: \($0.reason)" }
        if hidden.unresolved.count > unresolved.count {
            gaps.append("\(hidden.unresolved.count - unresolved.count) more unresolved sockets are left out: a report holds \(WireLimits.unresolvedPerReport)")
        }
        if walk.nsDenied > 0 {
            gaps.append("the network namespaces of \(walk.nsDenied) processes could not be read (\(why)): listeners in other namespaces may be missing")
        }
        // Left out is not gone: a collector must not close what it was not sent.
        if let warning = budget.warning { gaps.append(warning) }
        var warnings = gaps
        if walk.fdDenied > 0 {
            warnings.append("ownership is incomplete: running as uid \(getuid()), the descriptors of \(walk.fdDenied) processes could not be read (\(why))")
        }
        if !found.longCommandLines.isEmpty {
            warnings.append("command lines longer than \(WireLimits.cmdlineBytes) bytes were cut: pid "
                            + found.longCommandLines.sorted().map(String.init).joined(separator: ", "))
        }
        if let warning = owners.warning { warnings.append(warning) }
        if namespacesSeen > namespaces.count {
            warnings.append("\(namespacesSeen - namespaces.count) network namespaces are left out of the list: a report holds \(WireLimits.namespacesPerReport)")
        }
        return Snapshot(
            host: Host.read(procfs: procfs), collectedAt: collectedAt,
            complete: gaps.isEmpty,
            ownershipComplete: walk.fdDenied == 0, completeNamespaces: completeNamespaces, warnings: ReportBounds.warnings(warnings, redaction: redaction),
            namespaces: namespaces, listeners: listeners, truncatedListeners: budget.leftOut, unresolved: unresolved)
    }
}

extension ListenerScan {
    private enum Job: Sendable {
        case walk([Int32])
        case table(NamespaceTables.Task)
    }

    /// Every process's descriptors and every namespace's tables, on `lanes` threads. The
    /// reader's own namespace is known before the walk, so its tables (the largest job on
    /// most hosts) are read alongside it; other namespaces once the walk has found them.
    /// A socket opened between a table read and the walk is in no table it was read
    /// from, so `HiddenSockets` asks it directly: nothing is lost by the overlap.
    private func readAll(pids: [Int32], hostNetns: UInt64?, lanes: Int) -> (DescriptorWalk, NamespaceTables) {
        let own = try? procfs.networkNamespace(of: "self")
        let ownTables = own.map { NamespaceTables.Task.all(netns: $0, pids: [getpid()], ownNamespace: procfs.isLive) } ?? []
        var walk = DescriptorWalk()
        var tables = NamespaceTables()
        let room = DescriptorWalk.Room(limit: descriptorRoom)
        let jobs = ownTables.map(Job.table) + batches(pids, of: 16).map(Job.walk)
        for part in inLanes(jobs, lanes: lanes, { job -> (DescriptorWalk?, NamespaceTables?) in
            switch job {
            case .walk(let batch): (DescriptorWalk(procfs: procfs, pids: batch, room: room), nil)
            case .table(let task): (nil, NamespaceTables(task, procfs: procfs, hostNetns: hostNetns))
            }
        }) {
            if let part = part.0 { walk.merge(part) }
            if let part = part.1 { tables.merge(part) }
        }
        walk.sort()
        if let own, walk.members[own] == nil { walk.members[own] = [getpid()] }
        let others = walk.members.keys.sorted().filter { $0 != own }.flatMap {
            NamespaceTables.Task.all(netns: $0, pids: walk.members[$0]!)
        }
        for part in inLanes(others, lanes: lanes, { NamespaceTables($0, procfs: procfs, hostNetns: hostNetns) }) {
            tables.merge(part)
        }
        return (walk, tables)
    }
}
