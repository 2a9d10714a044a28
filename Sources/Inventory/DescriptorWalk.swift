import ProcFS

/// One pass over every process: which sockets each holds, and which network
/// namespace it is in. Done before the tables are read, so a socket that opens in
/// between is seen in a table and one that closes in between is simply not found.
struct DescriptorWalk {
    struct Holder: Equatable {
        var pid: Int32
        var fd: Int32
    }

    /// Socket inode → every (pid, fd) holding it.
    var holders: [UInt64: [Holder]] = [:]
    /// Network namespace inode → its member pids, ascending.
    var members: [UInt64: [Int32]] = [:]
    /// Processes whose descriptors could not be read (not root): owners may be missing.
    var fdDenied = 0
    /// Processes whose namespace could not be read: their namespaces may be missing.
    var nsDenied = 0

    /// Walks `pids` in `lanes` threads and merges what each found.
    init(procfs: ProcFS, pids: [Int32], lanes: Int) {
        for part in inLanes(pids, lanes: lanes, { DescriptorWalk(procfs: procfs, pids: $0) }) {
            holders.merge(part.holders, uniquingKeysWith: +)
            members.merge(part.members, uniquingKeysWith: +)
            fdDenied += part.fdDenied
            nsDenied += part.nsDenied
        }
        for key in members.keys { members[key]!.sort() }
    }

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
                    holders[inode, default: []].append(Holder(pid: pid, fd: fd))
                }
            } catch .permissionDenied {
                fdDenied += 1
            } catch {
                // Exited between listing /proc and opening its fd directory.
            }
        }
    }

    /// The distinct pids holding `inode`, ascending.
    func pids(holding inode: UInt64) -> [Int32] {
        guard let list = holders[inode] else { return [] }
        var pids = list.map(\.pid)
        pids.sort()
        var unique: [Int32] = []
        for pid in pids where unique.last != pid { unique.append(pid) }
        return unique
    }
}
