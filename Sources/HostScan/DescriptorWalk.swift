import ProcFS
import Synchronization

/// One pass over every process: which sockets each holds, and which network namespace
/// it is in.
///
/// Processes choose how many descriptors they hold: a `nobody` process with 4,000
/// listeners that forks 255 children holds a million, 16 MB as `Holder`s — several
/// copies of that put the agent over its unit's MemoryMax. So the walk keeps every
/// process's descriptors only while all kept stay within `DescriptorWalk.Room`; past it a
/// process's sockets are only counted (and the first holder of each remembered), and
/// `lowestPids` reads those processes again for just the holders a report lists.
struct DescriptorWalk {
    /// One socket descriptor: process `pid` holds socket `inode` as descriptor `fd`.
    struct Holder: Equatable {
        var inode: UInt64
        var pid: Int32
        var fd: Int32
    }

    /// What is kept of a socket held by processes not kept: how many of them, and the
    /// one with the lowest pid (to ask the socket through).
    struct Socket {
        var processes: Int32
        var first: Holder
    }

    /// Descriptors kept, shared by the walk's lanes: 262,144 (4 MiB) by default, twenty
    /// times what bench/scan-vs-ss.sh's busy host holds (~12k).
    final class Room: Sendable {
        let limit: Int
        private let taken = Atomic<Int>(0)

        init(limit: Int = 262_144) { self.limit = limit }

        /// Whether `count` more descriptors fit; once one process's did not, none do,
        /// so a lane cannot squeeze small processes in past a big one.
        func take(_ count: Int) -> Bool {
            taken.add(count, ordering: .relaxed).newValue <= limit
        }
    }

    /// The descriptors kept, sorted by inode (then pid, fd) by `sorted()`: a flat array
    /// costs a fraction of a dictionary of arrays on a host with 10k descriptors.
    private(set) var holders: [Holder] = []
    /// The sockets of the processes not kept (past the room), counted.
    private(set) var notKeptSockets: [UInt64: Socket] = [:]
    /// Processes whose sockets were counted but not kept.
    private(set) var notKept: [Int32] = []
    /// Network namespace inode → its member pids.
    var members: [UInt64: [Int32]] = [:]
    /// Processes whose descriptors could not be read (not root): owners may be missing.
    var fdDenied = 0
    /// Processes whose namespace could not be read: their namespaces may be missing.
    var nsDenied = 0

    init() {}

    /// Walks one batch of processes.
    init(procfs: ProcFS, pids: [Int32], room: Room) {
        for pid in pids {
            do throws(ProcFSError) {
                members[try procfs.networkNamespace(of: String(pid)), default: []].append(pid)
            } catch .permissionDenied {
                nsDenied += 1
            } catch {
                // Gone mid-scan, or a kernel thread without a namespace link: nothing to read.
            }
            let start = holders.count
            do throws(ProcFSError) {
                try procfs.forEachSocket(pid: pid) { fd, inode in holders.append(Holder(inode: inode, pid: pid, fd: fd)) }
            } catch .permissionDenied {
                fdDenied += 1
            } catch {
                // Exited between listing /proc and opening its fd directory.
            }
            if holders.count == start || room.take(holders.count - start) { continue }
            notKept.append(pid)
            var held = Array(holders[start...])
            holders.removeSubrange(start...)
            held.sort { ($0.inode, $0.fd) < ($1.inode, $1.fd) }
            // Counted once per process, however many descriptors it holds the socket by.
            for (index, holder) in held.enumerated() where index == 0 || held[index - 1].inode != holder.inode {
                notKeptSockets[holder.inode, default: Socket(processes: 0, first: holder)].processes += 1
            }
        }
    }

    mutating func merge(_ other: DescriptorWalk) {
        holders += other.holders
        if !other.notKeptSockets.isEmpty {
            notKeptSockets.merge(other.notKeptSockets) { mine, theirs in
                Socket(processes: mine.processes + theirs.processes, first: mine.first.pid <= theirs.first.pid ? mine.first : theirs.first)
            }
        }
        notKept += other.notKept
        members.merge(other.members, uniquingKeysWith: +)
        fdDenied += other.fdDenied
        nsDenied += other.nsDenied
    }

    /// Orders `holders` for the lookups below; call once, after the last merge.
    mutating func sort() {
        holders.sort { ($0.inode, $0.pid, $0.fd) < ($1.inode, $1.pid, $1.fd) }
        notKept.sort()
        for key in members.keys { members[key]!.sort() }
    }

    /// How many processes hold `inode`.
    func holderCount(of inode: UInt64) -> Int {
        var count = 0, last: Int32?
        for holder in kept(inode) where holder.pid != last {
            count += 1
            last = holder.pid
        }
        return count + Int(notKeptSockets[inode]?.processes ?? 0)
    }

    /// The kept descriptors holding `inode` (binary search over the sorted holders).
    private func kept(_ inode: UInt64) -> ArraySlice<Holder> {
        var low = 0, high = holders.count
        while low < high {
            let mid = (low + high) / 2
            if holders[mid].inode < inode { low = mid + 1 } else { high = mid }
        }
        var end = low
        while end < holders.count && holders[end].inode == inode { end += 1 }
        return holders[low..<end]
    }

    /// Calls `body` once per socket inode with descriptors to ask it through: those kept,
    /// or for a socket only processes not kept hold, the first of them.
    func forEachSocket(_ body: (UInt64, ArraySlice<Holder>) -> Void) {
        var start = 0
        while start < holders.count {
            var end = start + 1
            while end < holders.count && holders[end].inode == holders[start].inode { end += 1 }
            body(holders[start].inode, holders[start..<end])
            start = end
        }
        for (inode, socket) in notKeptSockets where kept(inode).isEmpty { body(inode, [socket.first][...]) }
    }

    /// For each of `inodes`, the lowest `counts` pids holding it, ascending. Exact: the
    /// processes not kept are read again, each socket taking only as many of their pids
    /// as it lists, so what this holds is bounded by what the report lists.
    func lowestPids(holding inodes: [UInt64], counts: [Int], procfs: ProcFS) -> [[Int32]] {
        // Sockets held by the same processes get one array (a daemon's eleven sockets).
        var interned: [[Int32]: [Int32]] = [:]
        func intern(_ pids: [Int32]) -> [Int32] {
            if let known = interned[pids] { return known }
            interned[pids] = pids
            return pids
        }
        func fromKept(_ inode: UInt64, _ count: Int) -> [Int32] {
            var pids: [Int32] = []
            guard count > 0 else { return pids }
            for holder in kept(inode) where pids.last != holder.pid {
                pids.append(holder.pid)
                if pids.count == count { break }
            }
            return pids
        }
        guard !notKept.isEmpty else { return zip(inodes, counts).map { intern(fromKept($0, $1)) } }

        var wanted: [UInt64: Int] = [:]
        for (inode, count) in zip(inodes, counts) where count > 0 { wanted[inode] = max(wanted[inode] ?? 0, count) }
        // Ascending pids: once a socket has its count from these, the rest are higher.
        var fromNotKept: [UInt64: [Int32]] = [:]
        for pid in notKept {
            try? procfs.forEachSocket(pid: pid) { _, inode in
                guard let count = wanted[inode], fromNotKept[inode, default: []].last != pid,
                      fromNotKept[inode, default: []].count < count else { return }
                fromNotKept[inode, default: []].append(pid)
            }
        }
        return zip(inodes, counts).map { inode, count in
            intern(Array((fromKept(inode, count) + (fromNotKept[inode] ?? [])).sorted().prefix(count)))
        }
    }
}
