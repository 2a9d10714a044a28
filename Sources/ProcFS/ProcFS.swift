import Glibc




/// A procfs mount, or a fixture tree shaped like one: every read goes through `root`,
/// so tests point it at `Tests/.../Fixtures/…` and production at `/proc`.
public struct ProcFS: Sendable {
    public let root: String

    public init(root: String = "/proc") {
        self.root = root.hasSuffix("/") && root.count > 1 ? String(root.dropLast()) : root
    }

    /// The absolute path of `relative` under the root.
    public func path(_ relative: String) -> String { root + "/" + relative }

    /// True when this is the kernel's live procfs, where fds can be duplicated and asked.
    public var isLive: Bool {
        // Only the kernel's procfs answers `self` with the reader's own pid.
        (try? readLink("self")).map { String(decoding: $0, as: UTF8.self) } == String(getpid())
    }
}

/// Why a /proc read failed; a vanished process shows up as `.notFound`.
public enum ProcFSError: Error, Equatable, CustomStringConvertible, Sendable {
    case notFound(String)
    case permissionDenied(String)
    case tooLarge(String, limit: Int)
    case system(String, errno: Int32)

    init(path: String, errno code: Int32) {
        switch code {
        case ENOENT, ESRCH, ENOTDIR: self = .notFound(path)
        case EACCES, EPERM: self = .permissionDenied(path)
        default: self = .system(path, errno: code)
        }
    }

    public var description: String {
        switch self {
        case .notFound(let p): "\(p): no such file (process gone?)"
        case .permissionDenied(let p): "\(p): permission denied"
        case .tooLarge(let p, let limit): "\(p): larger than \(limit) bytes, not read"
        case .system(let p, let e): "\(p): \(String(cString: strerror(e)))"
        }
    }
}

extension ProcFS {
    /// Whether `relative` exists under the root (a process directory, say).
    public func exists(_ relative: String) -> Bool { access(path(relative), F_OK) == 0 }
}
