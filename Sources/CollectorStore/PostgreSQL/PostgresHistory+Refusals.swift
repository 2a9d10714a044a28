import PostgresClient

// Refused hosts and imported histories on PostgreSQL, as CollectorDatabase+Refusals.swift
// and +Import.swift on SQLite.

extension PostgresHistory {
    /// The hosts whose newest report was refused, by host name.
    public func currentRefusals() throws -> [String: HostRefusal] {
        try read { connection in
            try connection.query("SELECT * FROM hostRefusal").reduce(into: [:]) { refusals, row in
                let refusal = try HostRefusal(pg: row)
                refusals[refusal.hostName] = refusal
            }
        }
    }

    /// Records refusals outside the ingest queue (tests, tools).
    public func record(refusals: [HostRefusal]) throws {
        try write { connection in for refusal in refusals { try Self.record(refusal, on: connection) } }
    }

    /// One refusal into its host's row: a host still refusing keeps its first refusal and
    /// adds to the count; the newest reason and message replace the older. One statement,
    /// so two collectors refusing one host at once both count.
    static func record(_ refusal: HostRefusal, on connection: PGConnection) throws {
        try connection.executePrepared("""
            INSERT INTO hostRefusal (hostName, reason, message, firstRefused, lastRefused, refusals) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (hostName) DO UPDATE SET reason = excluded.reason, message = excluded.message,
                lastRefused = GREATEST(hostRefusal.lastRefused, excluded.lastRefused),
                refusals = hostRefusal.refusals + excluded.refusals
            """, [refusal.hostName, refusal.reason.rawValue, refusal.message, refusal.firstRefused, refusal.lastRefused,
                  refusal.refusals])
    }

    /// Hosts with their history, in one transaction; host ids in the rows are ignored.
    /// A name already stored fails the whole import, as on SQLite.
    public func importHistory(_ histories: [HostHistory]) throws {
        try write { connection in
            for history in histories {
                let hostId = try Self.insert(history.host, on: connection)
                for var interval in history.listeners {
                    interval.hostId = hostId
                    try Self.insert(interval, on: connection)
                }
                for var run in history.runs {
                    run.hostId = hostId
                    try Self.insert(run, on: connection)
                }
                for var finding in history.findings {
                    finding.hostId = hostId
                    try Self.insert(finding, on: connection)
                }
            }
        }
    }
}

extension HostRefusal {
    init(pg row: PGRow) throws {
        let reason: String = try row.value("reason")
        guard let known = RefusalReason(rawValue: reason) else {
            throw StoreError(description: "reason \"\(reason)\" is not a value this release knows: the database was written by a newer one")
        }
        self.init(hostName: try row.value("hostName"), reason: known, message: "", at: 0)
        message = try row.value("message")
        firstRefused = try row.value("firstRefused")
        lastRefused = try row.value("lastRefused")
        refusals = try row.value("refusals")
    }
}
