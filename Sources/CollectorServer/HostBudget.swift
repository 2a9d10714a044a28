import Dispatch
import Synchronization

/// Each host's share of the collector, asked before a report is decoded or queued, so
/// one host — a bad agent, or an attacker with one host's key — cannot starve the rest:
/// reports per minute (what decoding and the queue cost) and listeners changed per hour
/// (what the history grows by). Two token buckets per host, each as deep as one period's
/// allowance: a host may spend a whole period's at once — an agent draining its spool
/// after an outage sends its reports back to back — and then what the period refills.
public final class HostBudget: Sendable {
    public struct Limits: Sendable, Equatable {
        public var reportsPerMinute: Int
        public var changedListenersPerHour: Int

        /// Above the agent's `spool.max_count` (1,000): a full spool drains in one go.
        public static let defaultReportsPerMinute = 1_200
        /// A busy container host's day of churn, redelivered at once, still fits.
        public static let defaultChangedListenersPerHour = 20_000

        public init(reportsPerMinute: Int = Limits.defaultReportsPerMinute,
                    changedListenersPerHour: Int = Limits.defaultChangedListenersPerHour) {
            self.reportsPerMinute = reportsPerMinute
            self.changedListenersPerHour = changedListenersPerHour
        }
    }

    private struct Bucket {
        var reports: Double
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
            guard bucket.reports >= 1 else {
                return Self.seconds(until: 1 - bucket.reports, at: Double(limits.reportsPerMinute) / 60)
            }
            bucket.reports -= 1
            return nil
        }
    }

    /// Takes the listeners a stored report opened and closed from `host`'s budget. A
    /// report may take more than is left: the host then waits until the debt is repaid.
    func charge(_ host: String, changed: Int, at now: UInt64 = HostBudget.now()) {
        guard changed > 0 else { return }
        state.withLock { state in
            var bucket = refilled(state.buckets[host], at: now)
            bucket.changes -= Double(changed)
            state.buckets[host] = bucket
        }
    }

    private func refilled(_ bucket: Bucket?, at now: UInt64) -> Bucket {
        guard var bucket else {
            return Bucket(reports: Double(limits.reportsPerMinute), changes: Double(limits.changedListenersPerHour), updated: now)
        }
        guard now > bucket.updated else { return bucket }
        let seconds = Double(now - bucket.updated) / 1e9
        bucket.reports = min(Double(limits.reportsPerMinute), bucket.reports + seconds * Double(limits.reportsPerMinute) / 60)
        bucket.changes = min(Double(limits.changedListenersPerHour),
                             bucket.changes + seconds * Double(limits.changedListenersPerHour) / 3_600)
        bucket.updated = now
        return bucket
    }

    private func prune(_ state: inout State, at now: UInt64) {
        state.buckets = state.buckets.filter { _, bucket in
            let full = refilled(bucket, at: now)
            return full.reports < Double(limits.reportsPerMinute) || full.changes < Double(limits.changedListenersPerHour)
        }
        state.pruneAt = max(1_024, state.buckets.count * 2)
    }

    private static func seconds(until missing: Double, at perSecond: Double) -> Int {
        max(1, Int((missing / perSecond).rounded(.up)))
    }
}
