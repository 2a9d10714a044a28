import Glibc
import PortwardenModel

extension ProcFS {
    public func status(pid: Int32) throws(ProcFSError) -> Result<ProcessStatus, ParseError> {
        let relative = "\(pid)/status"
        return ProcessStatus.parse(try read(relative, limit: 1 << 20), file: path(relative))
    }

    /// Name and uid without `status`: `comm`, and the owner of `/proc/PID` (its effective uid).
    public func statusFallback(pid: Int32) throws(ProcFSError) -> ProcessStatus {
        let comm = try read("\(pid)/comm", limit: 4096)
        var st = stat()
        guard stat(path("\(pid)"), &st) == 0 else { throw ProcFSError(path: path("\(pid)"), errno: errno) }
        return ProcessStatus(name: String(decoding: comm.prefix { $0 != 0x0A }, as: UTF8.self), uid: st.st_uid)
    }

    /// The command line, no more of it than `limit` bytes: a process chooses its own
    /// arguments, and a megabyte of them must cost a scan no more than a short one.
    public func cmdline(pid: Int32, limit: Int = WireLimits.cmdlineBytes) throws(ProcFSError) -> ProcessCmdline {
        ProcessCmdline.parse(prefix: try read("\(pid)/cmdline", upTo: limit + 1), limit: limit)
    }

    public func cgroup(pid: Int32) throws(ProcFSError) -> Result<ProcessCgroup, ParseError> {
        let relative = "\(pid)/cgroup"
        return ProcessCgroup.parse(try read(relative, limit: 1 << 20), file: path(relative))
    }

    /// The executable path; the kernel appends ` (deleted)` when the file was removed or
    /// replaced after exec, and that suffix is kept on purpose.
    public func exe(pid: Int32) throws(ProcFSError) -> String {
        String(decoding: try readLink("\(pid)/exe"), as: UTF8.self)
    }
}
