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
        var reports: Double
        var bytes: Double
        var changes: Double
        var updated: UInt64  // nanoseconds, monotonic
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
        state.withLock { state in
            var bucket = refilled(state.buckets[host], at: now)
            defer {
                state.buckets[host] = bucket
                if state.buckets.count >= state.pruneAt { prune(&state, at: now) }
            }
            if bucket.changes <= 0 {
                return Self.seconds(until: 1 - bucket.changes, at: Double(limits.changedListenersPerHour) / 3_600)
            }
            if bucket.bytes <= 0 {
                return Self.seconds(until: 1 - bucket.bytes, at: Double(limits.reportBytesPerMinute) / 60)
            }
            guard bucket.reports >= 1 else {
                return Self.seconds(until: 1 - bucket.reports, at: Double(limits.reportsPerMinute) / 60)
            }
            bucket.reports -= 1
            return nil
        }
    }

    /// Takes what a report cost from `host`'s budget: its decoded bytes (when it was
    /// read) and the listeners it opened and closed (when it was stored). A report may
    /// take more than is left: the host then waits until the debt is repaid.
    func charge(_ host: String, bytes: Int = 0, changed: Int = 0, at now: UInt64 = HostBudget.now()) {
        guard bytes > 0 || changed > 0 else { return }
        state.withLock { state in
            var bucket = refilled(state.buckets[host], at: now)
            bucket.bytes -= Double(bytes)
            bucket.changes -= Double(changed)
            state.buckets[host] = bucket
        }
    }

    private func refilled(_ bucket: Bucket?, at now: UInt64) -> Bucket {
        guard var bucket else {
            return Bucket(reports: Double(limits.reportsPerMinute), bytes: Double(limits.reportBytesPerMinute),
                          changes: Double(limits.changedListenersPerHour), updated: now)
        }
        guard now > bucket.updated else { return bucket }
        let seconds = Double(now - bucket.updated) / 1e9
        bucket.reports = min(Double(limits.reportsPerMinute), bucket.reports + seconds * Double(limits.reportsPerMinute) / 60)
        bucket.bytes = min(Double(limits.reportBytesPerMinute), bucket.bytes + seconds * Double(limits.reportBytesPerMinute) / 60)
        bucket.changes = min(Double(limits.changedListenersPerHour),
                             bucket.changes + seconds * Double(limits.changedListenersPerHour) / 3_600)
        bucket.updated = now
        return bucket
    }

    private func prune(_ state: inout State, at now: UInt64) {
        state.buckets = state.buckets.filter { _, bucket in
            let full = refilled(bucket, at: now)
            return full.reports < Double(limits.reportsPerMinute) || full.bytes < Double(limits.reportBytesPerMinute)
                || full.changes < Double(limits.changedListenersPerHour)
        }
        state.pruneAt = max(1_024, state.buckets.count * 2)
    }

    private static func seconds(until missing: Double, at perSecond: Double) -> Int {
        max(1, Int((missing / perSecond).rounded(.up)))
    }
}
