import GRDB

/// What is known of a host now — the one rule behind `hosts list`, /metrics and the
/// trend's coverage. Refusing comes first: a host whose newest report was refused is
/// telling the operator something is wrong, whether or not it is also stale.
public enum HostState: Equatable, Sendable {
    case reporting
    /// Nothing received within the stale window: what it listens on is unknown.
    case stale
    /// Its newest report was refused: what it listens on is unknown too, and why is known.
    case refusing(HostRefusal)

    /// `host` is nil for a host refused from its first report on.
    public init(host: HostRecord?, refusal: HostRefusal?, now: Int64, staleAfter window: Int64) {
        if let refusal, refusal.isCurrent(for: host) {
            self = .refusing(refusal)
        } else if let host, !host.isStale(at: now, after: window) {
            self = .reporting
        } else {
            self = .stale
        }
    }

    /// `reporting`, `stale` or `refusing`: the state's name in JSON and /metrics.
    public var name: String {
        switch self {
        case .reporting: "reporting"
        case .stale: "stale"
        case .refusing: "refusing"
        }
    }

    /// `reporting`, `stale`, or `refusing: REASON`.
    public var text: String { refusal.map { "refusing: \($0.reason.phrase)" } ?? name }

    public var refusal: HostRefusal? { if case .refusing(let refusal) = self { refusal } else { nil } }
}

extension HostRefusal {
    /// Not yet followed by a stored report of the host. Both times are the collector's
    /// clock when the report arrived, so the order in which the ingest thread wrote them
    /// does not matter; a refusal in the same second as a stored report counts as newer.
    public func isCurrent(for host: HostRecord?) -> Bool { host.map { lastRefused >= $0.lastReceived } ?? true }
}

extension CollectorDatabase {
    /// Refusals not yet followed by a stored report (`isCurrent`, in SQL), by host name.
    public func currentRefusals() throws -> [String: HostRefusal] {
        try reader.read { db in
            try HostRefusal.fetchAll(db, sql: """
                SELECT hostRefusal.* FROM hostRefusal LEFT JOIN host ON host.name = hostRefusal.hostName
                WHERE host.id IS NULL OR hostRefusal.lastRefused >= host.lastReceived
                """).reduce(into: [:]) { $0[$1.hostName] = $1 }
        }
    }

    /// Records refusals outside the ingest queue (tests, tools); the collector records
    /// them in its ingest transactions.
    public func record(refusals: [HostRefusal]) throws {
        try writer.write { db in for refusal in refusals { try Self.record(refusal, in: db) } }
    }

    /// One refusal into the host's row: while the host is still refusing (`isCurrent`) it
    /// extends the row's count; after a stored report it starts a new one.
    static func record(_ refusal: HostRefusal, in db: Database) throws {
        var row = refusal
        if let old = try HostRefusal.fetchOne(db, key: refusal.hostName) {
            let host = try HostRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM host WHERE name = ?"),
                                               arguments: [refusal.hostName])
            if old.isCurrent(for: host) {
                row.firstRefused = old.firstRefused
                row.lastRefused = max(old.lastRefused, refusal.lastRefused)
                row.refusals += old.refusals
            }
        }
        try row.upsert(db)
    }
}
