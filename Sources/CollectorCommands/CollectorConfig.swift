import PortwardenModel
import ConfigFile

/// The collector's config file (Collector/collector.yaml). Every setting is also a flag,
/// and a flag given on the command line wins over the file.
struct CollectorConfig {
    var listen: String?
    var stateDir: String?
    var database: String?
    /// false: the CA key is on another collector sharing this database, which signs (`serve --no-signing`).
    var signing: Bool?
    var maxReportBytes: Int?
    var staleAfter: Seconds?
    var headerTimeout: Seconds?
    var requestTimeout: Seconds?
    var keepaliveTimeout: Seconds?
    var handshakeTimeout: Seconds?
    var maxConnections: Int?
    var maxConnectionsPerAddress: Int?
    var receiptRetention: Seconds?
    /// The policy directory `serve` evaluates reports with and the `policy` commands read.
    var policies: String?
    var enrollment = EnrollmentSettings()
    // What a report may claim and cost (docs/wire-format.md, "Validation").
    var maxClockSkew: Seconds?
    var hostReportsPerMinute: Int?
    var hostReportBytesPerMinute: Int?
    var hostChangedListenersPerHour: Int?
    var maxQueuedReports: Int?
    /// Keys still read under an older name, each with what to write instead: said once,
    /// by `serve`, so the file is fixed before the old name goes.
    var deprecations: [String] = []

    /// What each number may be — in the file and as a flag alike (`serve`'s validate()).
    enum Limits {
        static let maxReportBytes = 1 << 10...1 << 30
        static let staleAfter = 1...365 * 86_400
        static let timeout = 1...3_600
        static let receiptRetention = 86_400...36_500 * 86_400
        static let maxClockSkew = 1...86_400
        static let hostReportsPerMinute = 1...1_000_000
        static let hostReportBytesPerMinute = 1 << 20...1 << 40
        static let hostChangedListenersPerHour = 1...100_000_000
        static let maxQueuedReports = 1...1_000_000
        static let connections = 1...1_000_000
    }

    /// Seconds without a report before a host counts as stale, when neither a flag nor
    /// the file says.
    static let defaultStaleAfter = 900

    /// `stale_after`, or the default.
    var staleAfterSeconds: Int64 { Int64(staleAfter?.value ?? Self.defaultStaleAfter) }

    /// How long the receipt log keeps a run of reports, when neither a flag nor the file says.
    static let defaultReceiptRetention = 400 * 86_400

    static let keys = [
        "listen", "state_dir", "database", "signing", "max_report_bytes", "stale_after", "header_timeout", "request_timeout", "keepalive_timeout",
        "receipt_retention", "receipt_retention_days", "policies", "handshake_timeout", "max_connections", "max_connections_per_address",
        "max_clock_skew", "host_reports_per_minute", "host_report_bytes_per_minute", "host_changed_listeners_per_hour", "max_queued_reports",
    ] + EnrollmentSettings.keys

    init() {}

    init(path: String) throws(ConfigError) {
        let file = try ConfigDocument(path: path)
        try file.requireOnly(Self.keys)
        listen = try file.string("listen")
        if let listen, HostPort(listen, allowingZero: true) == nil {
            throw file.error("listen", "expected host:port, e.g. 0.0.0.0:8443; got \"\(listen)\"")
        }
        stateDir = try file.string("state_dir")
        database = try file.string("database")
        signing = try file.bool("signing")
        maxReportBytes = try file.int("max_report_bytes", in: Limits.maxReportBytes)
        staleAfter = try file.seconds("stale_after", in: Limits.staleAfter)
        headerTimeout = try file.seconds("header_timeout", in: Limits.timeout)
        requestTimeout = try file.seconds("request_timeout", in: Limits.timeout)
        keepaliveTimeout = try file.seconds("keepalive_timeout", in: Limits.timeout)
        handshakeTimeout = try file.seconds("handshake_timeout", in: Limits.timeout)
        maxConnections = try file.int("max_connections", in: Limits.connections)
        maxConnectionsPerAddress = try file.int("max_connections_per_address", in: Limits.connections)
        receiptRetention = try file.seconds("receipt_retention", in: Limits.receiptRetention)
        // The name before durations were one syntax: still read, in days, while it is said to go.
        if let days = try file.int("receipt_retention_days", in: 1...36_500) {
            guard receiptRetention == nil else {
                throw file.error("receipt_retention_days", "receipt_retention_days and receipt_retention both set: keep receipt_retention only")
            }
            receiptRetention = Seconds(days * 86_400)
            let at = file.keys["receipt_retention_days"]?.line ?? 0
            deprecations.append("\(path):\(at): receipt_retention_days is deprecated: write receipt_retention: \(days)d instead")
        }
        policies = try file.string("policies")
        enrollment = try EnrollmentSettings(file)
        maxClockSkew = try file.seconds("max_clock_skew", in: Limits.maxClockSkew)
        hostReportsPerMinute = try file.int("host_reports_per_minute", in: Limits.hostReportsPerMinute)
        hostReportBytesPerMinute = try file.int("host_report_bytes_per_minute", in: Limits.hostReportBytesPerMinute)
        hostChangedListenersPerHour = try file.int("host_changed_listeners_per_hour", in: Limits.hostChangedListenersPerHour)
        maxQueuedReports = try file.int("max_queued_reports", in: Limits.maxQueuedReports)
    }
}
