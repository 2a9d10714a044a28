import Glibc

/// Why a command will not use the database it was pointed at, and what to do.
public enum DatabaseUnusable: Error, CustomStringConvertible, Sendable {
    case missing(String)
    case older(String, pending: [String])
    case newer(String)
    /// SQLite could not open or write the file (its "error 14"); the reason is the file
    /// system's, found by looking (`cannotOpen(_:)`).
    case cannotOpen(String, reason: String)

    public var description: String {
        switch self {
        // A PostgreSQL database is created by its DBA; its schema by `db migrate`.
        case .missing(let path) where PostgresTarget.isPostgres(path):
            "the PostgreSQL database \(path) holds no portwarden history: run `portwarden db migrate --database …` "
                + "(or start `portwarden serve` on it), or `portwarden db copy` to move a SQLite history there"
        case .older(let path, let pending) where PostgresTarget.isPostgres(path):
            "the PostgreSQL database \(path) has an older schema (\(pending.joined(separator: ", ")) not applied): "
                + "run this release's `portwarden db migrate --database …` once"
        case .newer(let path) where PostgresTarget.isPostgres(path):
            "the PostgreSQL database \(path) has a newer schema than this release knows: a collector of a newer release "
                + "migrated it; upgrade this collector to that release (or use that release's commands)"
        case .missing(let path):
            "there is no database at \(path): pass the collector's --state-dir (or --config naming its `database:`); "
                + "a new collector starts with `portwarden ca init`"
        case .older(let path, let pending):
            "the database at \(path) was written by an older release (\(pending.joined(separator: ", ")) not applied): "
                + "back it up, then start this release's `portwarden serve` once to upgrade it"
        case .newer(let path):
            "the database at \(path) was written by a newer release of portwarden: use that release's commands"
        case .cannotOpen(let path, let reason):
            "cannot open the database \(path): \(reason)"
        }
    }

    /// Why SQLite could not open `path`, as the file system shows it, and what to do. SQLite
    /// makes `-wal` and `-shm` files beside the database, so its directory must be writable too.
    public static func cannotOpen(_ path: String) -> DatabaseUnusable {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let user = "this process (uid \(getuid()))"
        let reason: String
        var status = stat()
        if stat(directory.isEmpty ? "/" : directory, &status) != 0 {
            reason = "its directory \(directory) does not exist: create it (owned by the collector's user), or pass the "
                + "collector's --state-dir (or --database / `database:` in the config)"
        } else if (status.st_mode & S_IFMT) != S_IFDIR {
            reason = "\(directory) is not a directory: pass the collector's --state-dir (or --database / `database:` in the config)"
        } else if access(path, F_OK) == 0 && access(path, R_OK | W_OK) != 0 {
            reason = "\(user) may not read and write it: run the command as the collector's user (the owner of \(path)), "
                + "or give that user the file (chown)"
        } else if access(directory, W_OK | X_OK) != 0 {
            reason = "\(user) may not create files in \(directory) (SQLite keeps its -wal and -shm files there): run the "
                + "command as the collector's user, or give that user the directory (chown)"
        } else {
            reason = "SQLite could not open it (is it a database file, and is the disk mounted read-write?); "
                + "check the path, or restore it from a backup"
        }
        return .cannotOpen(path, reason: reason)
    }
}
