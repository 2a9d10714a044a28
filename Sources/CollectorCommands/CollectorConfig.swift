import ConfigFile

/// The collector's config file (Collector/collector.yaml). Every setting is also a flag,
/// and a flag given on the command line wins over the file.
struct CollectorConfig {
    var listen: String?
    var stateDir: String?
    var database: String?
    var maxReportBytes: Int?
    var staleAfter: Int?
    var headerTimeout: Int?
    var requestTimeout: Int?
    var receiptRetentionDays: Int?
    /// The policy directory `serve` evaluates reports with and the `policy` commands read.
    var policies: String?

    static let keys = [
        "listen", "state_dir", "database", "max_report_bytes", "stale_after", "header_timeout", "request_timeout",
        "receipt_retention_days", "policies",
    ]

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
        maxReportBytes = try file.int("max_report_bytes", in: 1 << 10...1 << 30)
        staleAfter = try file.int("stale_after", in: 1...365 * 86_400)
        headerTimeout = try file.int("header_timeout", in: 1...3_600)
        requestTimeout = try file.int("request_timeout", in: 1...3_600)
        receiptRetentionDays = try file.int("receipt_retention_days", in: 1...36_500)
        policies = try file.string("policies")
    }
}
