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

    /// One table of one namespace, with the members that may be asked for it.
    struct Task: Sendable {
        var netns: UInt64
        var table: NetTable
        var pids: [Int32]

        /// The four tables of a namespace.
        static func all(netns: UInt64, pids: [Int32]) -> [Task] {
            NetTable.allCases.map { Task(netns: netns, table: $0, pids: pids) }
        }
    }

    init() {}

    /// Reads one table and keeps its listeners.
    init(_ task: Task, procfs: ProcFS, hostNetns: UInt64?) {
        guard let (pid, rows) = rows(task, procfs: procfs) else { return }
        readFrom[task.netns] = pid
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
    }

    mutating func merge(_ other: NamespaceTables) {
        listeners += other.listeners
        accounted.formUnion(other.accounted)
        parseErrors += other.parseErrors
        failures += other.failures
        readFrom.merge(other.readFrom) { first, _ in first }
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
