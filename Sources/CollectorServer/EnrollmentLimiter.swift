import Glibc
import PortwardenModel
import Synchronization

/// Enrollment attempts per source address: a token bucket for every attempt, and a
/// smaller one for attempts with a wrong secret or token. IPv6 addresses count per /64
/// (one host usually holds a whole /64); IPv4 per address. The defaults let thousands of
/// hosts behind one NAT address enroll at once: each gets its turn within minutes
/// (429 with Retry-After), while one address cannot flood the collector, its audit or
/// its pending list.
final class EnrollmentLimiter: Sendable {
    typealias Limits = EnrollmentLimits

    private struct Buckets {
        var all: TokenBucket
        var failures: TokenBucket
    }

    /// Addresses tracked at once; past it, idle ones are forgotten, and if none is idle a
    /// new address shares one bucket with every other newcomer.
    static let maxAddresses = 65_536
    private static let overflow = IPAddress.v6(high: .max, low: .max)

    let limits: Limits
    private let clock: @Sendable () -> Double
    private let table = Mutex([IPAddress: Buckets]())

    init(limits: Limits = .defaults, clock: @escaping @Sendable () -> Double = EnrollmentLimiter.monotonicSeconds) {
        self.limits = limits
        self.clock = clock
    }

    /// nil when an attempt from `address` may go on; else the seconds to wait.
    func admit(_ address: IPAddress?) -> Int? {
        take(address) { $0.all.takeOne(at: $1) }
    }

    /// Counts a wrong secret or token from `address`: nil while within the limit (the
    /// refusal is written to the audit), else the seconds to wait (the answer is 429, and
    /// the audit is spared).
    func failed(_ address: IPAddress?) -> Int? {
        take(address) { $0.failures.takeOne(at: $1) }
    }

    private func take(_ address: IPAddress?, _ body: (inout Buckets, Double) -> Int?) -> Int? {
        let now = clock()
        let key = address?.source ?? Self.overflow
        return table.withLock { table in
            if table[key] == nil {
                if table.count >= Self.maxAddresses { forgetIdle(&table, now) }
                let fresh = Buckets(
                    all: TokenBucket(capacity: Double(limits.burst), perSecond: Double(limits.perMinute) / 60, at: now),
                    failures: TokenBucket(capacity: Double(limits.failureBurst), perSecond: Double(limits.failuresPerMinute) / 60, at: now))
                if table.count < Self.maxAddresses {
                    table[key] = fresh
                } else {
                    return body(&table[Self.overflow, default: fresh], now)
                }
            }
            return body(&table[key]!, now)
        }
    }

    private func forgetIdle(_ table: inout [IPAddress: Buckets], _ now: Double) {
        table = table.filter { _, buckets in !(buckets.all.isFull(at: now) && buckets.failures.isFull(at: now)) }
    }

    static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// How many enrollment attempts one source address may make (`enrollment:` in the
/// collector's config). A wrong secret or token counts against the smaller limit too.
public struct EnrollmentLimits: Sendable, Equatable {
    /// Attempts per minute per address, and how many may come at once.
    public var perMinute: Int
    public var burst: Int
    /// Attempts with a wrong secret or token per minute per address, and at once.
    public var failuresPerMinute: Int
    public var failureBurst: Int

    public init(perMinute: Int, burst: Int, failuresPerMinute: Int, failureBurst: Int) {
        self.perMinute = perMinute
        self.burst = burst
        self.failuresPerMinute = failuresPerMinute
        self.failureBurst = failureBurst
    }

    /// 20 a second with 500 at once per address: 5,000 hosts behind one NAT address all
    /// enroll within a few minutes. 10 wrong secrets a minute, 20 at once.
    public static let defaults = EnrollmentLimits(perMinute: 1_200, burst: 500, failuresPerMinute: 10, failureBurst: 20)
}
