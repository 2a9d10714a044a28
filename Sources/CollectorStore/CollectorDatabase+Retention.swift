internal import GRDB

extension CollectorDatabase {
    /// Deletes receipt runs last extended before `cutoff` (seconds since the epoch),
    /// except each host's newest, which dedupe needs. Listener history is kept: it grows
    /// with change only. Returns how many runs went.
    @discardableResult
    public func pruneReceipts(receivedBefore cutoff: Int64) throws -> Int {
        try writer.write { db in
            try db.execute(sql: """
                DELETE FROM receiptRun
                WHERE lastReceived < ?
                  AND id NOT IN (SELECT MAX(id) FROM receiptRun GROUP BY hostId)
                """, arguments: [cutoff])
            return db.changesCount
        }
    }
}
