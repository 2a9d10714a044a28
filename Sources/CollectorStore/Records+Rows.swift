import GRDB

// Rows read and written column by column for the records every report touches: GRDB's
// Codable path builds a decoder or a dictionary per record, which an unchanged report —
// most reports — would otherwise spend most of its time in.

extension HostRecord {
    public init(row: Row) throws {
        self.init(id: row["id"], name: row["name"], machineID: row["machineID"], bootID: row["bootID"],
                  kernel: row["kernel"], os: row["os"], firstSeen: row["firstSeen"], lastSeen: row["lastSeen"],
                  lastReceived: row["lastReceived"], lastSequence: row["lastSequence"], complete: row["complete"],
                  labels: row["labels"])
    }

    /// Writes what a report may change (everything but the name and first sighting).
    func updateReported(_ db: Database) throws {
        try db.cachedStatement(sql: """
            UPDATE host SET machineID = ?, bootID = ?, kernel = ?, os = ?, lastSeen = ?, lastReceived = ?,
                lastSequence = ?, complete = ?, labels = ? WHERE id = ?
            """).execute(arguments: [machineID, bootID, kernel, os, lastSeen, lastReceived, lastSequence, complete, labels, id])
    }
}

extension ReceiptRun {
    public init(row: Row) throws {
        self.init(id: row["id"], hostId: row["hostId"], bootID: row["bootID"], firstSequence: row["firstSequence"],
                  lastSequence: row["lastSequence"], lastBodyDigest: row["lastBodyDigest"],
                  firstCollected: row["firstCollected"], lastCollected: row["lastCollected"],
                  lastReceived: row["lastReceived"], reports: row["reports"])
    }

    /// Writes what one more unchanged report moves.
    func updateExtended(_ db: Database) throws {
        try db.cachedStatement(sql: """
            UPDATE receiptRun SET lastSequence = ?, lastBodyDigest = ?, lastCollected = ?, lastReceived = ?, reports = ?
            WHERE id = ?
            """).execute(arguments: [lastSequence, lastBodyDigest, lastCollected, lastReceived, reports, id])
    }
}

extension ListenerInterval {
    /// Inserts the row on a cached statement: ingest's new intervals and an import's
    /// millions alike.
    func insertRow(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO listenerInterval (hostId, identity, netns, hostNetns, protocol, family, address, port, scope, owners,
                                          opened, closed, uid, foundBy, ownersWithCommandLines)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [hostId, identity, netns, hostNetns, `protocol`, family, address, port, scope, owners,
                                     opened, closed, uid, foundBy, ownersWithCommandLines])
    }
}

extension ReceiptRun {
    /// Inserts the row on a cached statement.
    func insertRow(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO receiptRun (hostId, bootID, firstSequence, lastSequence, lastBodyDigest, firstCollected, lastCollected,
                                    lastReceived, reports)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [hostId, bootID, firstSequence, lastSequence, lastBodyDigest, firstCollected, lastCollected,
                                     lastReceived, reports])
    }
}
