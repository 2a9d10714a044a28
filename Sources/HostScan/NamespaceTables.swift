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

    /// One table of one namespace, with the members that may be asked for it; for the
    /// reader's own namespace, both TCP tables, which one netlink dump answers.
    struct Task: Sendable {
        var netns: UInt64
        var tables: [NetTable]
        var pids: [Int32]
        /// The reader's own namespace on the live /proc: asked over netlink first (`SockDiag`).
        var ownNamespace = false

        /// The four tables of a namespace.
        static func all(netns: UInt64, pids: [Int32], ownNamespace: Bool = false) -> [Task] {
            let groups: [[NetTable]] = ownNamespace ? [[.tcp, .tcp6], [.udp], [.udp6]] : NetTable.allCases.map { [$0] }
            return groups.map { Task(netns: netns, tables: $0, pids: pids, ownNamespace: ownNamespace) }
        }
    }

    init() {}

    /// Reads the task's tables and keeps their listeners. A table that cannot be read
    /// adds none of its rows, not even those read before it failed.
    init(_ task: Task, procfs: ProcFS, hostNetns: UInt64?) {
        struct Rows {
            var listeners: [Listener] = []
            var seen: Set<UInt64> = []
        }
        func keep(_ entry: NetTableEntry, of table: NetTable, in rows: inout Rows) {
            // A member that dies mid-read hands the table to the next: skip rows seen.
            guard entry.inode != 0, rows.seen.insert(entry.inode).inserted, entry.isListener(in: table) else { return }
            rows.listeners.append(Listener(table.isTCP ? .tcp : .udp, boundTo: entry.localAddress, port: entry.localPort,
                                           netns: task.netns, hostNetns: hostNetns, inode: entry.inode, uid: entry.uid,
                                           foundBy: .procfs))
        }
        func add(_ rows: Rows, readThrough pid: Int32) {
            listeners += rows.listeners
            accounted.formUnion(rows.seen)
            if readFrom[task.netns] == nil { readFrom[task.netns] = pid }
        }
        // The kernel's binary rows cost a third of its text ones, both TCP tables in one
        // walk of its established hash. Only from a thread in the namespace asked for.
        if task.ownNamespace, let pid = task.pids.first, (try? procfs.networkNamespace(of: "thread-self")) == task.netns {
            var rows = Rows()
            let asked: Void? = task.tables == [.tcp, .tcp6]
                ? try? SockDiag.forEachTCPEntry { table, entry in keep(entry, of: table, in: &rows) }
                : task.tables.count == 1 ? try? SockDiag.forEachEntry(task.tables[0]) { keep($0, of: task.tables[0], in: &rows) } : nil
            if asked != nil {
                add(rows, readThrough: pid)
                return
            }
        }
        for table in task.tables {
            var rows = Rows()
            if let pid = read(table, of: task, procfs: procfs, { keep($0, of: table, in: &rows) }) { add(rows, readThrough: pid) }
        }
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
    private mutating func read(_ table: NetTable, of task: Task, procfs: ProcFS,
                               _ body: (NetTableEntry) -> Void) -> Int32? {
        var lastError: ProcFSError?
        for pid in task.pids {
            do throws(ProcFSError) {
                let skipped = try procfs.forEachNetTableEntry(table, pid: String(pid), body)
                if !skipped.isEmpty { incomplete.insert(task.netns) }
                parseErrors += skipped
                return pid
            } catch {
                lastError = error
                guard case .notFound = error else { break }
                if procfs.exists(String(pid)) {
                    // The member is alive, the file is not: no IPv6 in this kernel is
                    // normal, a missing IPv4 table is not.
                    if table.isIPv6 { return nil }
                    break
                }
            }
        }
        if let lastError {
            failures.append("netns \(task.netns): \(table.rawValue) unreadable: \(lastError)")
            incomplete.insert(task.netns)
        }
        return nil
    }
}
