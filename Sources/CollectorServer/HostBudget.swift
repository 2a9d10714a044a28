import Dispatch
import Synchronization

/// Each host's share of the collector, asked before a report is decoded or queued, so
/// one host — a bad agent, or an attacker with one host's key — cannot starve the rest:
/// reports per minute (what the queue and each transaction cost), report bytes per
/// minute (what decoding costs: a host sending 4 MiB reports, gzip'd to little on the
/// wire, within its report count would still take the event loops from everyone) and
/// listeners changed per hour (what the history grows by). Three token buckets per host,
/// each as deep as one period's allowance: a host may spend a whole period's at once — an agent draining its spool
/// after an outage sends its reports back to back — and then what the period refills.
public final class HostBudget: Sendable {
    public struct Limits: Sendable, Equatable {
        public var reportsPerMinute: Int
        public var reportBytesPerMinute: Int
        public var changedListenersPerHour: Int

        /// Above the agent's `spool.max_count` (1,000): a full spool drains in one go.
        public static let defaultReportsPerMinute = 1_200
        /// Decoded bytes: a full spool of ordinary 20 KB reports (20 MB) drains in one go;
        /// a host of 4,096 listeners (~1.5 MB a report) reports every minute with room to spare.
        public static let defaultReportBytesPerMinute = 64 << 20
        /// A busy container host's day of churn, redelivered at once, still fits.
        public static let defaultChangedListenersPerHour = 20_000

        public init(reportsPerMinute: Int = Limits.defaultReportsPerMinute,
                    reportBytesPerMinute: Int = Limits.defaultReportBytesPerMinute,
                    changedListenersPerHour: Int = Limits.defaultChangedListenersPerHour) {
            self.reportsPerMinute = reportsPerMinute
            self.reportBytesPerMinute = reportBytesPerMinute
            self.changedListenersPerHour = changedListenersPerHour
        }
    }

    private struct Bucket {
        var reports: TokenBucket
        var bytes: TokenBucket
        var changes: TokenBucket

        func isFull(at now: Double) -> Bool { reports.isFull(at: now) && bytes.isFull(at: now) && changes.isFull(at: now) }
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        /// Buckets are forgotten once full again (a fresh one is the same); looked for
        /// when the table has doubled since the last look.
        var pruneAt = 1_024
    }

    let limits: Limits
    private let state = Mutex(State())

    init(_ limits: Limits) { self.limits = limits }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// nil when `host` may send a report now (it takes one from its budget), else the
    /// whole seconds until it may: the `Retry-After` of its 429.
    func admit(_ host: String, at now: UInt64 = HostBudget.now()) -> Int? {
        let now = Self.seconds(now)
        return state.withLock { state in
            var bucket = state.buckets[host] ?? fresh(at: now)
            defer {
                state.buckets[host] = bucket
                if state.buckets.count >= state.pruneAt { prune(&state, at: now) }
            }
            // A host in debt waits until it is repaid, and then for one token.
            for owed in [\Bucket.changes, \Bucket.bytes] {
                bucket[keyPath: owed].refill(at: now)
                if bucket[keyPath: owed].level <= 0 { return bucket[keyPath: owed].secondsUntilOne }
            }
            return bucket.reports.takeOne(at: now)
        }
    }

    /// Takes what a report cost from `host`'s budget: its decoded bytes (when it was
    /// read) and the listeners it opened and closed (when it was stored). A report may
    /// take more than is left: the host then waits until the debt is repaid.
    func charge(_ host: String, bytes: Int = 0, changed: Int = 0, at now: UInt64 = HostBudget.now()) {
        guard bytes > 0 || changed > 0 else { return }
        let now = Self.seconds(now)
        state.withLock { state in
            var bucket = state.buckets[host] ?? fresh(at: now)
            bucket.bytes.charge(Double(bytes), at: now)
            bucket.changes.charge(Double(changed), at: now)
            state.buckets[host] = bucket
        }
    }

    private func fresh(at now: Double) -> Bucket {
        Bucket(reports: TokenBucket(capacity: Double(limits.reportsPerMinute), perSecond: Double(limits.reportsPerMinute) / 60, at: now),
               bytes: TokenBucket(capacity: Double(limits.reportBytesPerMinute), perSecond: Double(limits.reportBytesPerMinute) / 60, at: now),
               changes: TokenBucket(capacity: Double(limits.changedListenersPerHour),
                                    perSecond: Double(limits.changedListenersPerHour) / 3_600, at: now))
    }

    private static func seconds(_ nanoseconds: UInt64) -> Double { Double(nanoseconds) / 1e9 }

    private func prune(_ state: inout State, at now: Double) {
        state.buckets = state.buckets.filter { _, bucket in !bucket.isFull(at: now) }
        state.pruneAt = max(1_024, state.buckets.count * 2)
    }
}
