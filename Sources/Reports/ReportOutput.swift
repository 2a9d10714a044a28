import Glibc

/// Where a report or export goes: standard output, or a file replaced atomically — the
/// bytes go to a temporary file beside it, are synced, and only then renamed over the
/// target, so a cron job never leaves (or lets anyone read) a half-written report.
public final class ReportOutput {
    private let fd: Int32
    private let target: String?
    private let temporary: String?
    private var failed: String?
    private var committed = false

    /// Standard output.
    public init() {
        fd = STDOUT_FILENO
        target = nil
        temporary = nil
    }

    /// A new file at `path` (mode 0644), replacing any there once `commit()` is called.
    public init(path: String) throws(ReportError) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let base = path.split(separator: "/").last.map(String.init) ?? path
        let pattern = (directory.isEmpty ? "" : directory) + "/.\(base).XXXXXX"
        var template = Array(pattern.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ReportError("cannot write in \(directory): \(String(cString: strerror(errno)))") }
        fchmod(fd, 0o644)
        self.fd = fd
        target = path
        temporary = String(cString: template)
    }

    deinit {
        // Never committed: leave nothing behind.
        if let temporary, !committed {
            close(fd)
            unlink(temporary)
        }
    }

    public func write(_ bytes: [UInt8]) {
        guard failed == nil else { return }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                failed = String(cString: strerror(errno))
                return
            }
            offset += written
        }
    }

    public func write(_ text: String) { write(Array(text.utf8)) }

    /// Makes the file visible under its name (or checks standard output was written).
    public func commit() throws(ReportError) {
        if let failed { throw ReportError("writing \(target ?? "standard output") failed: \(failed)") }
        guard let target, let temporary else { return }
        guard fsync(fd) == 0 else { throw ReportError("syncing \(target) failed: \(String(cString: strerror(errno)))") }
        guard rename(temporary, target) == 0 else {
            throw ReportError("cannot replace \(target): \(String(cString: strerror(errno)))")
        }
        close(fd)
        committed = true
    }
}

/// A report or export that could not be made; the commands print it and exit 2.
public struct ReportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
