import CLinuxShims
import Glibc

extension ProcFS {
    /// Calls `body(fd, inode)` for every descriptor of `pid` that is a socket.
    /// Links are read relative to the open fd directory: one path walk per process,
    /// not per descriptor, which is most of the scan's cost on a busy host.
    public func forEachSocket(pid: Int32, _ body: (Int32, UInt64) -> Void) throws(ProcFSError) {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { link throws(ProcFSError) in
            let target = UnsafeMutableRawPointer(link.baseAddress!).assumingMemoryBound(to: CChar.self)
            var denied = false
            try forEachEntry("\(pid)/fd") { dfd, name in
                let n = readlinkat(dfd, name, target, link.count)
                if n < 0 && (errno == EACCES || errno == EPERM) { denied = true }
                guard n > 0, link[0] == UInt8(ascii: "s"),
                      let inode = InodeLink.inode(UnsafeBufferPointer(rebasing: link[0..<n]), kind: "socket"),
                      let fd = Int32(String(cString: name))
                else { return }
                body(fd, inode)
            }
            // The directory may list while its links stay closed (a protected process).
            if denied { throw .permissionDenied(path("\(pid)/fd")) }
        }
    }

    /// The network namespace inode of `pid` (`self` for the reader's own).
    public func networkNamespace(of pid: String) throws(ProcFSError) -> UInt64 {
        let link = try readLink("\(pid)/ns/net")
        guard let inode = InodeLink.inode(link, kind: "net") else {
            throw .system(path("\(pid)/ns/net"), errno: EINVAL)
        }
        return inode
    }

    /// Every process id under the root, in directory order.
    public func pids() throws(ProcFSError) -> [Int32] {
        var pids: [Int32] = []
        try forEachEntry("") { _, name in
            guard name[0] >= 0x31, name[0] <= 0x39, let pid = Int32(String(cString: name)) else { return }
            pids.append(pid)
        }
        return pids
    }
}

extension ProcFS {
    /// What a socket descriptor calls itself — `TCP`, `UDPv6`, `UNIX-STREAM`, `NETLINK` —
    /// from the sockfs attribute `system.sockprotoname`. One call, no descriptor copied,
    /// which sorts the many unix and netlink sockets out of the way cheaply.
    public func socketKind(pid: Int32, fd: Int32) throws(ProcFSError) -> String {
        let full = path("\(pid)/fd/\(fd)")
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buf throws(ProcFSError) in
            let n = UnsafeMutableRawPointer(buf.baseAddress!).withMemoryRebound(to: CChar.self, capacity: buf.count) {
                pw_sockprotoname(full, $0, UInt(buf.count))
            }
            guard n >= 0 else { throw ProcFSError(path: full, errno: errno) }
            return String(decoding: buf[0..<n].prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
