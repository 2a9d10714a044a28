import ProcFS

/// One pass over every process: which sockets each holds, and which network namespace
/// it is in.
struct DescriptorWalk {
    /// One socket descriptor: process `pid` holds socket `inode` as descriptor `fd`.
    struct Holder: Equatable {
        var inode: UInt64
        var pid: Int32
        var fd: Int32
    }

    /// Every socket descriptor, sorted by inode (then pid, fd) by `sorted()`: a flat
    /// array costs a fraction of a dictionary of arrays on a host with 10k descriptors.
    private(set) var holders: [Holder] = []
    /// Network namespace inode → its member pids.
    var members: [UInt64: [Int32]] = [:]
    /// Processes whose descriptors could not be read (not root): owners may be missing.
    var fdDenied = 0
    /// Processes whose namespace could not be read: their namespaces may be missing.
    var nsDenied = 0

    init() {}

    /// Walks one batch of processes.
    init(procfs: ProcFS, pids: [Int32]) {
        for pid in pids {
            do throws(ProcFSError) {
                members[try procfs.networkNamespace(of: String(pid)), default: []].append(pid)
            } catch .permissionDenied {
                nsDenied += 1
            } catch {
                // Gone mid-scan, or a kernel thread without a namespace link: nothing to read.
            }
            do throws(ProcFSError) {
                try procfs.forEachSocket(pid: pid) { fd, inode in
                    holders.append(Holder(inode: inode, pid: pid, fd: fd))
                }
            } catch .permissionDenied {
                fdDenied += 1
            } catch {
                // Exited between listing /proc and opening its fd directory.
            }
        }
    }

    mutating func merge(_ other: DescriptorWalk) {
        holders += other.holders
        members.merge(other.members, uniquingKeysWith: +)
        fdDenied += other.fdDenied
        nsDenied += other.nsDenied
    }

    /// Orders `holders` for the lookups below; call once, after the last merge.
    mutating func sort() {
        holders.sort { ($0.inode, $0.pid, $0.fd) < ($1.inode, $1.pid, $1.fd) }
        for key in members.keys { members[key]!.sort() }
    }

    /// The descriptors holding `inode` (binary search over the sorted holders).
    func holders(of inode: UInt64) -> ArraySlice<Holder> {
        var low = 0, high = holders.count
        while low < high {
            let mid = (low + high) / 2
            if holders[mid].inode < inode { low = mid + 1 } else { high = mid }
        }
        var end = low
        while end < holders.count && holders[end].inode == inode { end += 1 }
        return holders[low..<end]
    }

    /// The distinct pids holding `inode`, ascending.
    func pids(holding inode: UInt64) -> [Int32] {
        var pids: [Int32] = []
        for holder in holders(of: inode) where pids.last != holder.pid { pids.append(holder.pid) }
        return pids
    }

    /// Calls `body` once per socket inode with all its holders.
    func forEachSocket(_ body: (UInt64, ArraySlice<Holder>) -> Void) {
        var start = 0
        while start < holders.count {
            var end = start + 1
            while end < holders.count && holders[end].inode == holders[start].inode { end += 1 }
            body(holders[start].inode, holders[start..<end])
            start = end
        }
    }
}
