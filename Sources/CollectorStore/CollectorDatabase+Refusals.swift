internal import GRDB

/// What is known of a host now — the one rule behind `hosts list`, /metrics and the
/// trend's coverage. Refusing comes first: a host whose newest report was refused is
/// telling the operator something is wrong, whether or not it is also stale.
public enum HostState: Equatable, Sendable {
    case reporting
    /// Nothing received within the stale window: what it listens on is unknown.
    case stale
    /// Its newest report was refused: what it listens on is unknown too, and why is known.
    case refusing(HostRefusal)
    /// `hosts forget` took it out of the fleet at this time: out of coverage, not unknown.
    case retired(Int64)

    /// `host` is nil for a host refused from its first report on; `refusal` is the host's
    /// row in `currentRefusals()`, if it has one.
    public init(host: HostRecord?, refusal: HostRefusal?, now: Int64, staleAfter window: Int64) {
        if let retiredAt = host?.retiredAt {
            self = .retired(retiredAt)
        } else if let refusal {
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
        case .retired: "retired"
        }
    }

    /// `reporting`, `stale`, or `refusing: REASON`.
    public var text: String { refusal.map { "refusing: \($0.reason.phrase)" } ?? name }

    public var refusal: HostRefusal? { if case .refusing(let refusal) = self { refusal } else { nil } }
}

extension CollectorDatabase {
    /// The hosts whose newest report was refused, by host name: a stored report deletes
    /// its host's row, in the transaction that stores it.
    public func currentRefusals() throws -> [String: HostRefusal] {
        try reader.read { db in try HostRefusal.fetchAll(db, sql: "SELECT * FROM hostRefusal").reduce(into: [:]) { $0[$1.hostName] = $1 } }
    }

    /// Records refusals outside the ingest queue (tests, tools); the collector records
    /// them in its ingest transactions, in order with the reports.
    public func record(refusals: [HostRefusal]) throws {
        try writer.write { db in for refusal in refusals { try Self.record(refusal, in: db) } }
    }

    /// One refusal into its host's row: a host still refusing keeps its first refusal and
    /// adds to the count; the newest reason and message replace the older.
    static func record(_ refusal: HostRefusal, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO hostRefusal (hostName, reason, message, firstRefused, lastRefused, refusals) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (hostName) DO UPDATE SET reason = excluded.reason, message = excluded.message,
                lastRefused = max(lastRefused, excluded.lastRefused), refusals = refusals + excluded.refusals
            """).execute(arguments: [refusal.hostName, refusal.reason.rawValue, refusal.message, refusal.firstRefused,
                                     refusal.lastRefused, refusal.refusals])
    }

    /// A report of `host` was stored: it is no longer refusing.
    static func clearRefusal(host: String, in db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM hostRefusal WHERE hostName = ?").execute(arguments: [host])
    }
}
