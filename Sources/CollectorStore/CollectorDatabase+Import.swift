import GRDB

/// A host's whole history, to import in one go: for backfilling from another tool's
/// records, and for the benchmark's generated fleet. Host ids in the rows are ignored.
public struct HostHistory: Sendable {
    public var host: HostRecord
    public var listeners: [ListenerInterval]
    public var runs: [ReceiptRun]
    public var findings: [FindingInterval]

    public init(host: HostRecord, listeners: [ListenerInterval], runs: [ReceiptRun], findings: [FindingInterval]) {
        self.host = host
        self.listeners = listeners
        self.runs = runs
        self.findings = findings
    }
}

extension CollectorDatabase {
    /// Imports hosts with their history, in one transaction; prepared statements, no
    /// per-row encoding, for millions of rows.
    public func importHistory(_ histories: [HostHistory]) throws {
        try writer.write { db in
            let listener = try db.cachedStatement(sql: """
                INSERT INTO listenerInterval (hostId, identity, netns, hostNetns, protocol, family, address, port, scope, owners,
                                              opened, closed, uid, foundBy)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let run = try db.cachedStatement(sql: """
                INSERT INTO receiptRun (hostId, bootID, firstSequence, lastSequence, lastBodyDigest, firstCollected, lastCollected,
                                        lastReceived, reports)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for history in histories {
                var host = history.host
                host.id = nil
                try host.insert(db)
                let hostId = host.id!
                for l in history.listeners {
                    try listener.execute(arguments: [hostId, l.identity, l.netns, l.hostNetns, l.protocol, l.family, l.address, l.port,
                                                     l.scope, l.owners, l.opened, l.closed, l.uid, l.foundBy])
                }
                for r in history.runs {
                    try run.execute(arguments: [hostId, r.bootID, r.firstSequence, r.lastSequence, r.lastBodyDigest, r.firstCollected,
                                                r.lastCollected, r.lastReceived, r.reports])
                }
                for var finding in history.findings {
                    finding.id = nil
                    finding.hostId = hostId
                    try finding.insert(db)
                }
            }
        }
    }
}
