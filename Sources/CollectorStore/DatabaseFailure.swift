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
