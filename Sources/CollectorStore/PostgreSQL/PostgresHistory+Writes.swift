import PostgresClient

// The rows ingest and import write, column by column as Records+Rows.swift writes them on
// SQLite, on statements prepared once per connection. A column added to a record is
// added in both.

extension PostgresHistory {
    /// Inserts a host whole (an import); its id.
    static func insert(_ host: HostRecord, on connection: PGConnection) throws -> Int64 {
        try connection.executePrepared("""
            INSERT INTO host (name, machineID, bootID, kernel, os, firstSeen, lastSeen, lastReceived, lastSequence, complete, labels,
                              findingsChangedAt, firstReceived, retiredAt, retiredBy, retiredReason, stateDigest, stateSequence,
                              statePolicy, stateUntil)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) RETURNING id
            """, [host.name, host.machineID, host.bootID, host.kernel, host.os, host.firstSeen, host.lastSeen, host.lastReceived,
                  host.lastSequence, host.complete, host.labels, host.findingsChangedAt, host.firstReceived, host.retiredAt,
                  host.retiredBy, host.retiredReason, host.stateDigest, host.stateSequence, host.statePolicy,
                  host.stateUntil]).first!.value("id")
    }

    static func insert(_ interval: ListenerInterval, on connection: PGConnection) throws {
        try connection.executePrepared("""
            INSERT INTO listenerInterval (hostId, identity, netns, hostNetns, protocol, family, address, port, scope, owners,
                                          opened, closed, uid, foundBy, unseenSince, ownersUnseenSince, closedAs)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
            """, [interval.hostId, interval.identity, interval.netns, interval.hostNetns, interval.protocol, interval.family,
                  interval.address, interval.port, interval.scope, interval.owners, interval.opened, interval.closed, interval.uid,
                  interval.foundBy, interval.unseenSince, interval.ownersUnseenSince, interval.closedAs])
    }

    static func insert(_ run: ReceiptRun, on connection: PGConnection) throws {
        try connection.executePrepared("""
            INSERT INTO receiptRun (hostId, bootID, firstSequence, lastSequence, lastBodyDigest, firstCollected, lastCollected,
                                    lastReceived, reports, firstReceived)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """, [run.hostId, run.bootID, run.firstSequence, run.lastSequence, run.lastBodyDigest, run.firstCollected,
                  run.lastCollected, run.lastReceived, run.reports, run.firstReceived])
    }

    static func insert(_ finding: FindingInterval, on connection: PGConnection) throws {
        try connection.executePrepared("""
            INSERT INTO findingInterval (hostId, identity, rule, severity, netns, protocol, family, address, port, owners, waived,
                                         waiver, policyVersion, opened, closed, closedAs)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            """, [finding.hostId, finding.identity, finding.rule, finding.severity, finding.netns, finding.protocol, finding.family,
                  finding.address, finding.port, finding.owners, finding.waived, finding.waiver, finding.policyVersion,
                  finding.opened, finding.closed, finding.closedAs])
    }
}
