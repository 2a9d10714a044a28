internal import GRDB

extension CollectorDatabase {
    /// v9-namespaces: what the newest report could not say about a listener still open.
    /// Two nullable columns; every existing interval was shown by its host's newest report
    /// as far as the history knows, so both start null.
    static func migrateV9Namespaces(_ db: Database) throws {
        try db.alter(table: "listenerInterval") { t in
            // Since when the host's reports have not shown it, kept open because its
            // namespace was not read in full: what it does now is unknown.
            t.add(column: "unseenSince", .integer)
            // Since when its owners have not been seen (their descriptors unreadable): the
            // owners it holds are the last known.
            t.add(column: "ownersUnseenSince", .integer)
        }
    }
}
