import PortwardenModel
import ProcFS

/// The socket tables of every network namespace, each read once through one member.
struct NamespaceTables {
    var listeners: [Listener] = []
    /// Every socket inode in any table, listening or not: sockets the walk found that
    /// are not here live somewhere no table reached.
    var accounted: Set<UInt64> = []
    var namespaces: [NetworkNamespace] = []
    var parseErrors: [ParseError] = []
    var failures: [String] = []

    private struct Task: Sendable {
        var netns: UInt64
        var table: NetTable
        var pids: [Int32]
    }

    /// Each (namespace, table) pair is one task; the lanes share them out.
    init(procfs: ProcFS, members: [UInt64: [Int32]], hostNetns: UInt64?, lanes: Int) {
        let tasks = members.keys.sorted().flatMap { netns in
            NetTable.allCases.map { Task(netns: netns, table: $0, pids: members[netns]!) }
        }
        var readFrom: [UInt64: Int32] = [:]
        let parts = inLanes(tasks, lanes: lanes) { share in
            var part = NamespaceTables()
            var from: [UInt64: Int32] = [:]
            for task in share {
                if let pid = part.read(task, procfs: procfs, hostNetns: hostNetns) { from[task.netns] = from[task.netns] ?? pid }
            }
            return (part, from)
        }
        for (part, from) in parts {
            listeners += part.listeners
            accounted.formUnion(part.accounted)
            parseErrors += part.parseErrors
            failures += part.failures
            readFrom.merge(from) { a, _ in a }
        }
        namespaces = members.keys.sorted().map {
            NetworkNamespace(inode: $0, host: $0 == hostNetns, processes: members[$0]!.count, tablesFrom: readFrom[$0])
        }
    }

    private init() {}

    /// Reads one table and keeps its listeners; returns the member it was read through.
    private mutating func read(_ task: Task, procfs: ProcFS, hostNetns: UInt64?) -> Int32? {
        guard let (pid, rows) = rows(task, procfs: procfs) else { return nil }
        let table = task.table
        for entry in rows where entry.inode != 0 {
            accounted.insert(entry.inode)
            guard entry.isListener(in: table) else { continue }
            listeners.append(Listener(
                transport: table.isTCP ? .tcp : .udp, family: table.isIPv6 ? .ipv6 : .ipv4,
                address: entry.localAddress.description, port: entry.localPort,
                scope: ExposureScope(boundTo: entry.localAddress), netns: task.netns,
                hostNetns: task.netns == hostNetns, inode: entry.inode, uid: entry.uid, processes: []))
        }
        return pid
    }

    /// The table through the first member still alive; a namespace's last member may
    /// exit mid-scan, which loses nothing that was there to read.
    private mutating func rows(_ task: Task, procfs: ProcFS) -> (Int32, [NetTableEntry])? {
        var lastError: ProcFSError?
        for pid in task.pids {
            do throws(ProcFSError) {
                let (rows, errors) = try procfs.netTable(task.table, pid: String(pid))
                parseErrors += errors
                return (pid, rows)
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
        if let lastError { failures.append("netns \(task.netns): \(task.table.rawValue) unreadable: \(lastError)") }
        return nil
    }
}
