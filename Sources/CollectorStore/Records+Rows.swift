internal import GRDB

// Rows read and written column by column: the records are plain structs (no GRDB type
// leaves the store), and GRDB's Codable path would build a decoder or a dictionary per
// record, which an unchanged report — most reports — would otherwise spend most of its
// time in. A column added to a record is added here.

extension HostRecord: RowRecord {
    init(row: Row) throws {
        self.init(id: row["id"], name: row["name"], machineID: row["machineID"], bootID: row["bootID"],
                  kernel: row["kernel"], os: row["os"], firstSeen: row["firstSeen"], lastSeen: row["lastSeen"],
                  lastReceived: row["lastReceived"], lastSequence: row["lastSequence"], complete: row["complete"],
                  labels: row["labels"], findingsChangedAt: row["findingsChangedAt"], firstReceived: row["firstReceived"],
                  retiredAt: row["retiredAt"], retiredBy: row["retiredBy"], retiredReason: row["retiredReason"],
                  stateDigest: row["stateDigest"], stateSequence: row["stateSequence"],
                  statePolicy: row["statePolicy"], stateUntil: row["stateUntil"])
    }

    /// Inserts the host; its id is set.
    mutating func insert(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO host (name, machineID, bootID, kernel, os, firstSeen, lastSeen, lastReceived, lastSequence, complete, labels,
                              findingsChangedAt, firstReceived, retiredAt, retiredBy, retiredReason, stateDigest, stateSequence, statePolicy, stateUntil)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [name, machineID, bootID, kernel, os, firstSeen, lastSeen, lastReceived, lastSequence, complete,
                                     labels, findingsChangedAt, firstReceived, retiredAt, retiredBy, retiredReason, stateDigest,
                                     stateSequence, statePolicy, stateUntil])
        id = db.lastInsertedRowID
    }

    /// Writes what a report may change (everything but the name and first sighting); a
    /// retired host's report starts its new life (`retiredAt` back to nil).
    func updateReported(_ db: Database) throws {
        try db.cachedStatement(sql: """
            UPDATE host SET machineID = ?, bootID = ?, kernel = ?, os = ?, lastSeen = ?, lastReceived = ?,
                lastSequence = ?, complete = ?, labels = ?, retiredAt = ?, retiredBy = ?, retiredReason = ?, stateDigest = ?,
                stateSequence = ?, statePolicy = ?, stateUntil = ?
            WHERE id = ?
            """).execute(arguments: [machineID, bootID, kernel, os, lastSeen, lastReceived, lastSequence, complete, labels,
                                     retiredAt, retiredBy, retiredReason, stateDigest, stateSequence, statePolicy, stateUntil, id])
    }
}

extension ReceiptRun: RowRecord {
    init(row: Row) throws {
        self.init(id: row["id"], hostId: row["hostId"], bootID: row["bootID"], firstSequence: row["firstSequence"],
                  lastSequence: row["lastSequence"], lastBodyDigest: row["lastBodyDigest"],
                  firstCollected: row["firstCollected"], lastCollected: row["lastCollected"],
                  lastReceived: row["lastReceived"], reports: row["reports"], firstReceived: row["firstReceived"])
    }

    /// Writes what one more unchanged report moves.
    func updateExtended(_ db: Database) throws {
        try db.cachedStatement(sql: """
            UPDATE receiptRun SET lastSequence = ?, lastBodyDigest = ?, lastCollected = ?, lastReceived = ?, reports = ?
            WHERE id = ?
            """).execute(arguments: [lastSequence, lastBodyDigest, lastCollected, lastReceived, reports, id])
    }
}

extension ListenerInterval: RowRecord {
    init(row: Row) throws {
        self.init(id: row["id"], hostId: row["hostId"], identity: row["identity"], netns: row["netns"], hostNetns: row["hostNetns"],
                  protocol: row["protocol"], family: row["family"], address: row["address"], port: row["port"], scope: row["scope"],
                  owners: row["owners"], opened: row["opened"], closed: row["closed"], uid: row["uid"], foundBy: row["foundBy"],
                  unseenSince: row["unseenSince"], ownersUnseenSince: row["ownersUnseenSince"], closedAs: row["closedAs"])
    }

    /// Inserts the row on a cached statement: ingest's new intervals and an import's
    /// millions alike.
    func insertRow(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO listenerInterval (hostId, identity, netns, hostNetns, protocol, family, address, port, scope, owners,
                                          opened, closed, uid, foundBy, unseenSince, ownersUnseenSince, closedAs)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [hostId, identity, netns, hostNetns, `protocol`, family, address, port, scope, owners,
                                     opened, closed, uid, foundBy, unseenSince, ownersUnseenSince, closedAs])
    }
}

extension ReceiptRun {
    /// Inserts the row on a cached statement.
    func insertRow(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO receiptRun (hostId, bootID, firstSequence, lastSequence, lastBodyDigest, firstCollected, lastCollected,
                                    lastReceived, reports, firstReceived)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [hostId, bootID, firstSequence, lastSequence, lastBodyDigest, firstCollected, lastCollected,
                                     lastReceived, reports, firstReceived])
    }
}

extension FindingInterval: RowRecord {
    init(row: Row) throws {
        self.init(id: row["id"], hostId: row["hostId"], identity: row["identity"], rule: row["rule"], severity: row["severity"],
                  netns: row["netns"], protocol: row["protocol"], family: row["family"], address: row["address"], port: row["port"],
                  owners: row["owners"], waived: row["waived"], waiver: row["waiver"], policyVersion: row["policyVersion"],
                  opened: row["opened"], closed: row["closed"], closedAs: row["closedAs"])
    }

    /// Inserts the interval on a cached statement; its id is set.
    mutating func insert(_ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO findingInterval (hostId, identity, rule, severity, netns, protocol, family, address, port, owners, waived,
                                         waiver, policyVersion, opened, closed, closedAs)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [hostId, identity, rule, severity, netns, `protocol`, family, address, port, owners, waived,
                                     waiver, policyVersion, opened, closed, closedAs])
        id = db.lastInsertedRowID
    }
}
