internal import GRDB

/// Why a host's report was refused after its certificate was accepted: something about the
/// report, which only the host can mend. The raw value is the `reason` label in /metrics.
public enum RefusalReason: String, CaseIterable, Codable, Sendable {
    /// `collected_at` ahead of the collector's clock by more than `max_clock_skew`.
    case clockSkew = "clock_skew"
    /// Older than what the history already holds for the host, or old without a sequence.
    case outOfOrder = "out_of_order"
    /// Not the wire format: syntax, a number out of range, a bound passed, an address
    /// that does not parse, a scope or family that disagrees with the address.
    case badRequest = "bad_request"
    /// Larger than `max_report_bytes`.
    case tooLarge = "too_large"
    /// The body names another host than the certificate does.
    case otherHost = "other_host"

    /// What `hosts list` and the trend's coverage print after `refusing:`.
    public var phrase: String {
        switch self {
        case .clockSkew: "clock skew"
        case .outOfOrder: "out of order"
        case .badRequest: "malformed report"
        case .tooLarge: "report too large"
        case .otherHost: "names another host"
        }
    }
}

/// A report refused for `reason`; `message` is what the host is told (400, 403 or 413).
public struct ReportRefusal: Error, CustomStringConvertible, Sendable {
    public let reason: RefusalReason
    public let message: String

    public init(_ reason: RefusalReason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }
}

/// The newest refusal of a host's reports (GRDB migration v5), by host name so a host
/// refused from its first report on is known too. While the row exists the host is
/// *refusing*; the next report of it that is stored deletes the row, in the same
/// transaction (refusals and reports are written in the order they arrived).
public struct HostRefusal: Codable, Equatable, Sendable {
    static let databaseTableName = "hostRefusal"
    /// The name in the refused host's certificate.
    public var hostName: String
    public var reason: RefusalReason
    /// What the host was told, cut to `messageBytes`: it may quote the host's own text.
    public var message: String
    /// The first refusal since the host's last stored report (or ever).
    public var firstRefused: Int64
    public var lastRefused: Int64
    /// Refusals recorded since `firstRefused` (the collector records at most one a minute
    /// per host and reason; /metrics counts every one).
    public var refusals: Int64

    public static let messageBytes = 1_024

    public init(hostName: String, reason: RefusalReason, message: String, at time: Int64) {
        self.hostName = hostName
        self.reason = reason
        var cut = message
        while cut.utf8.count > Self.messageBytes { cut.removeLast() }
        self.message = cut
        firstRefused = time
        lastRefused = time
        refusals = 1
    }
}

extension HostRefusal: RowRecord {
    init(row: Row) throws {
        hostName = row["hostName"]
        reason = try decoded(row, "reason")
        message = row["message"]
        firstRefused = row["firstRefused"]
        lastRefused = row["lastRefused"]
        refusals = row["refusals"]
    }
}
