import PortwardenModel
import CollectorServer
import ConfigFile

/// The `enrollment:` block of the collector's config: how long a host certificate is
/// valid, how long a request waits for an operator, and how many attempts one source
/// address may make.
///
///     enrollment:
///       certificate_lifetime: 90d # host certificates (enrollment, renewal, `enroll sign`)
///       request_ttl: 24h          # then `enroll approve` refuses it and the host asks again
///       per_minute: 1200          # attempts per source address (IPv6: per /64)
///       burst: 500                # at once
///       failures_per_minute: 10   # with a wrong secret or token
///       failure_burst: 20
struct EnrollmentSettings {
    var certificateLifetime: Seconds?
    var requestTTL: Seconds?
    var perMinute: Int?
    var burst: Int?
    var failuresPerMinute: Int?
    var failureBurst: Int?

    static let keys = ["enrollment.certificate_lifetime", "enrollment.request_ttl", "enrollment.per_minute", "enrollment.burst",
                       "enrollment.failures_per_minute", "enrollment.failure_burst"]
    static let defaultRequestTTL = 86_400
    static let requestTTLRange = 1...30 * 86_400
    static let countRange = 1...1_000_000
    /// Like ACME's: a short life makes renewal routine, and a stolen key's use short.
    static let defaultCertificateLifetime = 90 * 86_400
    /// A minute (tests of renewal) to ten years.
    static let certificateLifetimeRange = 60...3_650 * 86_400

    init() {}

    init(_ file: ConfigDocument) throws(ConfigError) {
        certificateLifetime = try file.seconds("enrollment.certificate_lifetime", in: Self.certificateLifetimeRange)
        requestTTL = try file.seconds("enrollment.request_ttl", in: Self.requestTTLRange)
        perMinute = try file.int("enrollment.per_minute", in: Self.countRange)
        burst = try file.int("enrollment.burst", in: Self.countRange)
        failuresPerMinute = try file.int("enrollment.failures_per_minute", in: Self.countRange)
        failureBurst = try file.int("enrollment.failure_burst", in: Self.countRange)
    }

    /// Seconds a host certificate is valid: `override` (a flag) when given, else the file's.
    func certificateLifetimeSeconds(_ override: Seconds? = nil) -> Int {
        (override ?? certificateLifetime)?.value ?? Self.defaultCertificateLifetime
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
