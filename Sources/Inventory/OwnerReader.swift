import PortwardenModel
import ProcFS

/// Builds the `Owner` for a pid from its status, exe, cmdline and cgroup.
struct OwnerReader {
    let procfs: ProcFS
    private var users = UserNames()
    /// Malformed status/cgroup lines met on the way, for the snapshot's warnings.
    private(set) var parseErrors: [ParseError] = []

    init(procfs: ProcFS) { self.procfs = procfs }

    /// The owners of `pids` (each read once), in `lanes` threads; gone processes are left out.
    static func owners(of pids: [Int32], procfs: ProcFS, lanes: Int) -> (owners: [Int32: Owner], errors: [ParseError]) {
        var owners: [Int32: Owner] = [:]
        var errors: [ParseError] = []
        for part in inLanes(batches(pids, of: 16), lanes: lanes, { share in
            var reader = OwnerReader(procfs: procfs)
            return (share.compactMap { reader.owner($0) }, reader.parseErrors)
        }) {
            for owner in part.0 { owners[owner.pid] = owner }
            errors += part.1
        }
        return (owners, errors)
    }

    /// nil when the process is gone: it exited between the descriptor walk and now.
    mutating func owner(_ pid: Int32) -> Owner? {
        let status: ProcessStatus
        switch Result(catching: { () throws(ProcFSError) in try procfs.status(pid: pid) }) {
        case .failure: return nil
        case .success(.success(let parsed)): status = parsed
        case .success(.failure(let error)):
            // Keep the owner: comm and the directory's owner say most of what status would.
            parseErrors.append(error)
            guard let fallback = try? procfs.statusFallback(pid: pid) else { return nil }
            status = fallback
        }
        var cgroup: ProcessCgroup?
        switch Result(catching: { () throws(ProcFSError) in try procfs.cgroup(pid: pid) }) {
        case .success(.success(let parsed)): cgroup = parsed
        case .success(.failure(let error)): parseErrors.append(error)
        case .failure: break
        }
        return Owner(pid: pid, name: status.name,
                     exe: try? procfs.exe(pid: pid),
                     cmdline: (try? procfs.cmdline(pid: pid)).map { WireLimits.cut(arguments: $0.arguments, knownLonger: $0.isCut) } ?? [],
                     uid: status.uid, user: users.name(of: status.uid),
                     unit: cgroup?.unit, container: cgroup?.container)
    }
}
