import PortwardenModel
import CollectorServer
import ConfigFile

/// The `enrollment:` block of the collector's config: how long a request waits for an
/// operator, and how many attempts one source address may make.
///
///     enrollment:
///       request_ttl: 24h          # then `enroll approve` refuses it and the host asks again
///       per_minute: 1200          # attempts per source address (IPv6: per /64)
///       burst: 500                # at once
///       failures_per_minute: 10   # with a wrong secret or token
///       failure_burst: 20
struct EnrollmentSettings {
    var requestTTL: Seconds?
    var perMinute: Int?
    var burst: Int?
    var failuresPerMinute: Int?
    var failureBurst: Int?

    static let keys = ["enrollment.request_ttl", "enrollment.per_minute", "enrollment.burst",
                       "enrollment.failures_per_minute", "enrollment.failure_burst"]
    static let defaultRequestTTL = 86_400
    static let requestTTLRange = 1...30 * 86_400
    static let countRange = 1...1_000_000

    init() {}

    init(_ file: ConfigDocument) throws(ConfigError) {
        requestTTL = try file.seconds("enrollment.request_ttl", in: Self.requestTTLRange)
        perMinute = try file.int("enrollment.per_minute", in: Self.countRange)
        burst = try file.int("enrollment.burst", in: Self.countRange)
        failuresPerMinute = try file.int("enrollment.failures_per_minute", in: Self.countRange)
        failureBurst = try file.int("enrollment.failure_burst", in: Self.countRange)
    }

    /// Seconds a request waits for an operator (and an approval for the host to collect it).
    var requestTTLSeconds: Int64 { Int64(requestTTL?.value ?? Self.defaultRequestTTL) }

    var limits: EnrollmentLimits {
        let d = EnrollmentLimits.defaults
        return EnrollmentLimits(perMinute: perMinute ?? d.perMinute, burst: burst ?? d.burst,
                                failuresPerMinute: failuresPerMinute ?? d.failuresPerMinute,
                                failureBurst: failureBurst ?? d.failureBurst)
    }
}
