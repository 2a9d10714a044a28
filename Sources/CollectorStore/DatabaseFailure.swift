internal import GRDB

/// What a database error means to the operator who ran the command, for its exit status:
/// the database cannot be used (missing, from another release, unreadable, the disk full),
/// or it is busy (another writer held it past the wait) and the command may simply run again.
public enum DatabaseFailure: Sendable {
    case unusable
    case busy

    /// nil when `error` is not about the database itself (a constraint, a bad statement).
    public init?(_ error: any Error) {
        if error is DatabaseUnusable || StorageUnavailable(error) != nil || error is StorageUnavailable {
            self = .unusable
        } else if let error = error as? DatabaseError, [.SQLITE_BUSY, .SQLITE_LOCKED].contains(error.resultCode) {
            self = .busy
        } else if let error = error as? DatabaseError, [.SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_PERM].contains(error.resultCode) {
            self = .unusable
        } else {
            return nil
        }
    }
}

extension DatabaseFailure {
    /// The storage failing (`error` is SQLite's full disk, I/O error, read-only file…) in
    /// the operator's words and what to do — not SQLite's result code; nil otherwise.
    public static func explanation(of error: any Error) -> String? {
        guard let storage = (error as? StorageUnavailable) ?? StorageUnavailable(error) else { return nil }
        return "\(storage.description): nothing was changed; free space or repair the file system, then run it again"
    }
}
