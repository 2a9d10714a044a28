import Glibc

/// A file a program keeps — a key, a certificate, a secret, a spooled snapshot, a counter —
/// written whole and read whole, without Foundation (the agent stays small). Its own
/// module so that the agent and the collector keep their files alike, neither through TLS.
public enum StateFile {
    public struct Failed: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }

        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// Writes whole to a temporary file beside `path` and renames it: a crash leaves the
    /// old file or the new one, never half of one. The temporary file is created afresh
    /// (O_EXCL) and never through a link (O_NOFOLLOW); the rename replaces a link planted
    /// at `path` rather than writing where it points.
    public static func write(_ text: String, to path: String, mode: mode_t) throws(Failed) {
        try write(bytes: Array(text.utf8), to: path, mode: mode)
    }

    public static func write(bytes: [UInt8], to path: String, mode: mode_t) throws(Failed) {
        let temporary = path + ".tmp-\(getpid())"
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        var fd = open(temporary, flags, mode)
        if fd < 0, errno == EEXIST {
            // Left by a crash of a process that had our pid, or planted: unlink removes a
            // link itself, never its target.
            unlink(temporary)
            fd = open(temporary, flags, mode)
        }
        guard fd >= 0 else { throw Failed(path: temporary, reason: String(cString: strerror(errno))) }
        let written = bytes.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let n = Glibc.write(fd, all.baseAddress! + offset, all.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { break }
                offset += n
            }
            return offset
        }
        let synced = fsync(fd) == 0
        let error = errno
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(written == bytes.count && synced ? errno : error))
            unlink(temporary)
            throw Failed(path: path, reason: reason)
        }
    }

    public static func read(_ path: String, followingLinks: Bool = true) throws(Failed) -> String {
        String(decoding: try readBytes(path, followingLinks: followingLinks), as: UTF8.self)
    }

    /// The file's bytes as they are, valid UTF-8 or not. `followingLinks: false` for files
    /// a program keeps itself: a link or anything but a plain file there was planted, and
    /// is refused (O_NONBLOCK: a planted FIFO must not hang the open).
    public static func readBytes(_ path: String, followingLinks: Bool = true) throws(Failed) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (followingLinks ? 0 : O_NOFOLLOW | O_NONBLOCK))
        guard fd >= 0 else {
            if errno == ELOOP && !followingLinks { throw Failed(path: path, reason: notPlain) }
            if errno == EACCES { throw Failed(path: path, reason: denied(path)) }
            throw Failed(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failed(path: path, reason: String(cString: strerror(errno))) }
        let isPlain = st.st_mode & S_IFMT == S_IFREG
        if !followingLinks && !isPlain { throw Failed(path: path, reason: notPlain) }
        var bytes: [UInt8] = []
        if isPlain { bytes.reserveCapacity(Int(st.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Failed(path: path, reason: String(cString: strerror(errno))) }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
    }

    /// Permission denied, with who this process is and whose the file is: the usual cause
    /// is a command run as root in a state directory a service user owns (or the reverse).
    static func denied(_ path: String) -> String {
        var st = stat()
        let owner = stat(path, &st) == 0 ? " and the file belongs to \(user(st.st_uid))" : ""
        return "\(String(cString: strerror(EACCES))): this command runs as \(user(geteuid()))\(owner); run it as the "
            + "user that owns the state (for the packaged collector: runuser -u portwarden -- …), or give the files to "
            + "that user (chown -R)"
    }

    private static func user(_ uid: uid_t) -> String {
        guard let entry = getpwuid(uid), let name = entry.pointee.pw_name else { return "uid \(uid)" }
        return "\(String(cString: name)) (uid \(uid))"
    }

    static let notPlain = "a symbolic link or special file where a plain file belongs; remove it, and check who can write to its directory"
}
