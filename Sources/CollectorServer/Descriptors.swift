import Glibc

/// The process's file descriptors: every connection is one, and so is every SQLite file,
/// policy file and log the collector opens. What the connection caps are fitted to.
public enum Descriptors {
    /// Raises the soft limit to the hard one: a fleet reporting at once must not meet the
    /// soft limit (often 1024) when the hard limit (systemd's default is 524288) allows
    /// more. The caps are fitted to what this leaves (`ConnectionLimits.fitted`).
    public static func raiseLimit() {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(resource, &limit)
    }

    /// The soft limit in force: no descriptor numbered at or above it can be opened.
    static var limit: Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else {  // RLIM_INFINITY
            return Int.max
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// How many are open now, from /proc/self/fd (the directory's own descriptor not
    /// counted). Where /proc cannot be read, a generous guess.
    static var open: Int {
        guard let directory = opendir("/proc/self/fd") else { return 256 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != 0x2E { count += 1 }  // not "." or ".."
        }
        return count - 1
    }
}
