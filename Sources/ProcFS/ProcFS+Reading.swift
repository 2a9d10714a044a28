import Glibc




extension ProcFS {
    /// The whole of a /proc file, at most `limit` bytes. procfs files report size 0, so
    /// read until EOF into a buffer that doubles: few, large reads matter for the socket
    /// tables, whose kernel iterator restarts its hash walk at every read call.
    public func read(_ relative: String, limit: Int = 64 << 20, expected: Int = 4096) throws(ProcFSError) -> [UInt8] {
        let bytes = try read(relative, upTo: limit + 1, expected: expected)
        if bytes.count > limit { throw .tooLarge(path(relative), limit: limit) }
        return bytes
    }

    /// The first `count` bytes of a file, or all of it when shorter: for a file whose
    /// length its writer chooses (a command line), of which only a bounded start is wanted.
    public func read(_ relative: String, upTo count: Int, expected: Int = 4096) throws(ProcFSError) -> [UInt8] {
        let full = path(relative)
        let fd = open(full, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProcFSError(path: full, errno: errno) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: min(count, max(expected, 256)))
        var used = 0
        while used < count {
            if used == bytes.count { bytes.append(contentsOf: repeatElement(0, count: min(used, count - used))) }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + used, $0.count - used) }
            if n == 0 { break }
            if n < 0 {
                if errno == EINTR { continue }
                throw ProcFSError(path: full, errno: errno)
            }
            used += n
        }
        bytes.removeSubrange(used...)
        return bytes
    }

    /// Calls `body` with each line of a file (without the newline), reading it in
    /// `chunk`-sized pieces. Large reads keep the kernel's table iterators from
    /// restarting often; a line longer than a chunk arrives in pieces.
    public func forEachLine(
        _ relative: String, chunk: Int = 128 << 10, _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) throws(ProcFSError) {
        let full = path(relative)
        let fd = open(full, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProcFSError(path: full, errno: errno) }
        defer { close(fd) }
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: chunk) { buffer throws(ProcFSError) in
            var kept = 0  // bytes of an unfinished line at the front of the buffer
            while true {
                let n = Glibc.read(fd, buffer.baseAddress! + kept, buffer.count - kept)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ProcFSError(path: full, errno: errno)
                }
                let filled = kept + n
                var start = 0
                for i in kept..<filled where buffer[i] == 0x0A {
                    body(UnsafeBufferPointer(rebasing: buffer[start..<i]))
                    start = i + 1
                }
                if n == 0 {
                    if start < filled { body(UnsafeBufferPointer(rebasing: buffer[start..<filled])) }
                    return
                }
                if start == 0 && filled == buffer.count {
                    body(UnsafeBufferPointer(buffer))  // a line longer than a chunk
                    kept = 0
                    continue
                }
                kept = filled - start
                if kept > 0 && start > 0 {
                    UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(
                        from: buffer.baseAddress! + start, byteCount: kept)
                }
            }
        }
    }

    /// The target of a symbolic link under the root, as raw bytes.
    public func readLink(_ relative: String) throws(ProcFSError) -> [UInt8] {
        let full = path(relative)
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4096) { buf throws(ProcFSError) in
            let n = readlink(full, UnsafeMutableRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self), buf.count)
            guard n >= 0 else { throw ProcFSError(path: full, errno: errno) }
            return Array(buf[0..<n])
        }
    }

    /// Calls `body` with the open directory's fd and each entry name (not `.`/`..`).
    /// Callers use the fd for `*at()` calls, which skip a path walk per entry.
    func forEachEntry(
        _ relative: String, _ body: (Int32, UnsafePointer<CChar>) -> Void
    ) throws(ProcFSError) {
        let full = path(relative)
        guard let dir = opendir(full) else { throw ProcFSError(path: full, errno: errno) }
        defer { closedir(dir) }
        let dfd = dirfd(dir)
        while let entry = readdir(dir) {
            withUnsafePointer(to: &entry.pointee.d_name) { raw in
                raw.withMemoryRebound(to: CChar.self, capacity: 256) { name in
                    if name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0)) { return }
                    body(dfd, name)
                }
            }
        }
    }
}
