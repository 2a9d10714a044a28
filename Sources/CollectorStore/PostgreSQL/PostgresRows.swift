import PostgresClient

// The records read from PostgreSQL rows, column by column as from SQLite's
// (Records+Rows.swift); a column added to a record is added in both.

extension HostRecord {
    init(pg row: PGRow) throws {
        self.init(id: try row.value("id"), name: try row.value("name"), machineID: try row.value("machineID"),
                  bootID: try row.value("bootID"), kernel: try row.value("kernel"), os: try row.value("os"),
                  firstSeen: try row.value("firstSeen"), lastSeen: try row.value("lastSeen"),
                  lastReceived: try row.value("lastReceived"), lastSequence: try row.value("lastSequence"),
                  complete: try row.value("complete"), labels: try row.value("labels"),
                  findingsChangedAt: try row.value("findingsChangedAt"), firstReceived: try row.value("firstReceived"),
                  retiredAt: try row.value("retiredAt"), retiredBy: try row.value("retiredBy"),
                  retiredReason: try row.value("retiredReason"), stateDigest: try row.value("stateDigest"),
                  stateSequence: try row.value("stateSequence"), statePolicy: try row.value("statePolicy"),
                  stateUntil: try row.value("stateUntil"))
    }
}

extension ReceiptRun {
    init(pg row: PGRow) throws {
        self.init(id: try row.value("id"), hostId: try row.value("hostId"), bootID: try row.value("bootID"),
                  firstSequence: try row.value("firstSequence"), lastSequence: try row.value("lastSequence"),
                  lastBodyDigest: try row.value("lastBodyDigest"), firstCollected: try row.value("firstCollected"),
                  lastCollected: try row.value("lastCollected"), lastReceived: try row.value("lastReceived"),
                  reports: try row.value("reports"), firstReceived: try row.value("firstReceived"))
    }
}

extension ListenerInterval {
    init(pg row: PGRow) throws {
        self.init(id: try row.value("id"), hostId: try row.value("hostId"), identity: try row.value("identity"),
                  netns: try row.value("netns"), hostNetns: try row.value("hostNetns"), protocol: try row.value("protocol"),
                  family: try row.value("family"), address: try row.value("address"), port: try row.value("port"),
                  scope: try row.value("scope"), owners: try row.value("owners"), opened: try row.value("opened"),
                  closed: try row.value("closed"), uid: try row.value("uid"), foundBy: try row.value("foundBy"),
                  unseenSince: try row.value("unseenSince"), ownersUnseenSince: try row.value("ownersUnseenSince"),
                  closedAs: try row.value("closedAs"))
    }
}

extension FindingInterval {
    init(pg row: PGRow) throws {
        self.init(id: try row.value("id"), hostId: try row.value("hostId"), identity: try row.value("identity"),
                  rule: try row.value("rule"), severity: try row.value("severity"), netns: try row.value("netns"),
                  protocol: try row.value("protocol"), family: try row.value("family"), address: try row.value("address"),
                  port: try row.value("port"), owners: try row.value("owners"), waived: try row.value("waived"),
                  waiver: try row.value("waiver"), policyVersion: try row.value("policyVersion"),
                  opened: try row.value("opened"), closed: try row.value("closed"), closedAs: try row.value("closedAs"))
    }
}
