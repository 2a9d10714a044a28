import PortwardenModel
import ProcFS

/// Builds the `Owner` for a pid from its status, exe, cmdline and cgroup: what the
/// process chose to show, redacted and cut to the report's bounds.
struct OwnerReader {
    let procfs: ProcFS
    let redaction: Redaction
    private var users = UserNames()
    /// Malformed status/cgroup lines met on the way, for the snapshot's warnings.
    private(set) var parseErrors: [ParseError] = []
    /// Processes whose command line was longer than `WireLimits.cmdlineBytes`.
    private(set) var longCommandLines: [Int32] = []

    init(procfs: ProcFS, redaction: Redaction) {
        self.procfs = procfs
        self.redaction = redaction
    }

    /// The owners of `pids` (each read once), in `lanes` threads; gone processes are left out.
    static func owners(of pids: [Int32], procfs: ProcFS, redaction: Redaction, lanes: Int)
        -> (owners: [Int32: Owner], errors: [ParseError], longCommandLines: [Int32])
    {
        var owners: [Int32: Owner] = [:]
        var errors: [ParseError] = []
        var long: [Int32] = []
        for part in inLanes(batches(pids, of: 16), lanes: lanes, { share in
            var reader = OwnerReader(procfs: procfs, redaction: redaction)
            return (share.compactMap { reader.owner($0) }, reader.parseErrors, reader.longCommandLines)
        }) {
            for owner in part.0 { owners[owner.pid] = owner }
            errors += part.1
            long += part.2
        }
        return (owners, errors, long)
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
        return Owner(pid: pid, name: WireLimits.cut(redaction.redact(status.name)),
                     exe: WireLimits.cut((try? procfs.exe(pid: pid)).map(redaction.redact)),
                     cmdline: commandLine(pid),
                     uid: status.uid, user: WireLimits.cut(users.name(of: status.uid)),
                     unit: WireLimits.cut(cgroup?.unit), container: WireLimits.cut(cgroup?.container))
    }

    /// Redacted first, while the arguments are whole, then cut.
    private mutating func commandLine(_ pid: Int32) -> [String] {
        guard let read = try? procfs.cmdline(pid: pid) else { return [] }
        let redacted = redaction.redact(arguments: read.arguments)
        let bounded = WireLimits.cut(arguments: redacted, knownLonger: read.isCut)
        if read.isCut || WireLimits.size(ofArguments: redacted) > WireLimits.cmdlineBytes { longCommandLines.append(pid) }
        return bounded
    }
}
