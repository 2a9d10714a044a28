import PortwardenModel
import ProcFS

/// The socket tables of every network namespace, each read once through one member.
struct NamespaceTables {
    var listeners: [Listener] = []
    /// Every socket inode in any table, listening or not: sockets the walk found that
    /// are not here live somewhere no table reached.
    var accounted: Set<UInt64> = []
    var parseErrors: [ParseError] = []
    var failures: [String] = []
    /// Namespace → the member its tables were read through.
    var readFrom: [UInt64: Int32] = [:]
    /// Namespaces with a table unreadable or a line skipped: they may hide a listener.
    var incomplete: Set<UInt64> = []

    /// The namespaces whose every table was read without a skipped line or an error.
    var readInFull: Set<UInt64> { Set(readFrom.keys).subtracting(incomplete) }

    /// One table of one namespace, with the members that may be asked for it.
    struct Task: Sendable {
        var netns: UInt64
        var table: NetTable
        var pids: [Int32]
        /// The reader's own namespace on the live /proc: asked over netlink first (`SockDiag`).
        var ownNamespace = false

        /// The four tables of a namespace.
        static func all(netns: UInt64, pids: [Int32], ownNamespace: Bool = false) -> [Task] {
            NetTable.allCases.map { Task(netns: netns, table: $0, pids: pids, ownNamespace: ownNamespace) }
        }
    }

    init() {}

    /// Reads one table and keeps its listeners.
    init(_ task: Task, procfs: ProcFS, hostNetns: UInt64?) {
        let table = task.table
        var kept: [Listener] = []
        var seen: Set<UInt64> = []
        guard let pid = read(task, procfs: procfs, { entry in
            // A member that dies mid-read hands the table to the next: skip rows seen.
            guard entry.inode != 0, seen.insert(entry.inode).inserted, entry.isListener(in: table) else { return }
            kept.append(Listener(table.isTCP ? .tcp : .udp, boundTo: entry.localAddress, port: entry.localPort,
                                 netns: task.netns, hostNetns: hostNetns, inode: entry.inode, uid: entry.uid,
                                 foundBy: .procfs))
        }) else { return }
        readFrom[task.netns] = pid
        listeners = kept
        accounted = seen
    }

    mutating func merge(_ other: NamespaceTables) {
        listeners += other.listeners
        accounted.formUnion(other.accounted)
        parseErrors += other.parseErrors
        failures += other.failures
        readFrom.merge(other.readFrom) { first, _ in first }
        incomplete.formUnion(other.incomplete)
    }

    /// The table through the first member still alive; a namespace's last member may
    /// exit mid-scan, which loses nothing that was there to read. A member that dies
    /// partway through leaves what was read: rows are only ever added.
    private mutating func read(_ task: Task, procfs: ProcFS, _ body: (NetTableEntry) -> Void) -> Int32? {
        // The kernel's binary rows cost a third of its text ones. Only from a thread in the
        // namespace asked for; on any failure /proc is read, and rows already seen are skipped.
        if task.ownNamespace, let pid = task.pids.first, (try? procfs.networkNamespace(of: "thread-self")) == task.netns,
           (try? SockDiag.forEachEntry(task.table, body)) != nil {
            return pid
        }
        var lastError: ProcFSError?
        for pid in task.pids {
            do throws(ProcFSError) {
                let skipped = try procfs.forEachNetTableEntry(task.table, pid: String(pid), body)
                if !skipped.isEmpty { incomplete.insert(task.netns) }
                parseErrors += skipped
                return pid
            } catch {
                lastError = error
                guard case .notFound = error else { break }
                if procfs.exists(String(pid)) {
                    // The member is alive, the file is not: no IPv6 in this kernel is
                    // normal, a missing IPv4 table is not.
                    if task.table.isIPv6 { return nil }
                    break
                }
            }
        }
        if let lastError {
            failures.append("netns \(task.netns): \(task.table.rawValue) unreadable: \(lastError)")
            incomplete.insert(task.netns)
        }
        return nil
    }
}
