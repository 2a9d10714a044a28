import CollectorStore
import Logging
import Synchronization

/// Reports refused for something about the report, from hosts whose certificate was
/// accepted: the host is marked *refusing* in the store (`hosts list`, /metrics, the
/// trend's coverage) so that a wrong clock or a bad agent never makes it vanish quietly.
/// Each refusal is counted in /metrics at once; logging it (one `report_refused` event,
/// with how many it stands for) and writing it to the store (through the ingest thread, in
/// its next transaction) happens at most once a minute per host and reason — a host
/// posting garbage in a loop costs no SQLite write and no log line per report. Refusals
/// that say nothing about the report (its host past its budget, the queue full) are
/// logged the same way but not stored: the host is not refusing.
final class RefusalLog: Sendable {
    private struct Entry {
        var written: Int64
        /// Refusals since `written` that were not written.
        var unwritten = 0
    }

    /// Seconds between two writes of one host's refusals for one reason.
    static let interval: Int64 = 60

    private let ingest: IngestQueue
    private let logger: Logger
    /// Host → reason → when last written. A host leaves it when a report of it is stored,
    /// so its next refusal is written at once.
    private let entries = Mutex([String: [String: Entry]]())

    init(ingest: IngestQueue, logger: Logger) {
        self.ingest = ingest
        self.logger = logger
    }

    func refused(host: String, _ refusal: ReportRefusal, at now: Int64, metadata: Logger.Metadata = [:]) {
        guard let count = due(host, refusal.reason.rawValue, at: now) else { return }
        var record = HostRefusal(hostName: host, reason: refusal.reason, message: refusal.message, at: now)
        record.refusals = Int64(count)
        ingest.record(record)
        log(host, refusal.reason.rawValue, refusal.message, count, metadata)
    }

    /// A refusal that is no fault of the report (`throttled`, `queue_full`): logged, not stored.
    func refused(host: String, reason: String, _ message: String, at now: Int64) {
        guard let count = due(host, reason, at: now) else { return }
        log(host, reason, message, count, [:])
    }

    /// How many refusals of `host` for `reason` to write now, counting this one; nil
    /// when one was written less than `interval` ago (this one is counted for the next).
    private func due(_ host: String, _ reason: String, at now: Int64) -> Int? {
        entries.withLock { entries in
            if let entry = entries[host]?[reason], now - entry.written < Self.interval {
                entries[host]![reason]!.unwritten += 1
                return nil
            }
            let count = (entries[host]?[reason]?.unwritten ?? 0) + 1
            entries[host, default: [:]][reason] = Entry(written: now)
            return count
        }
    }

    private func log(_ host: String, _ reason: String, _ message: String, _ count: Int, _ metadata: Logger.Metadata) {
        logger.warning("refused a report from \(host): \(message)", metadata: metadata.merging([
            "event": "report_refused", "host": "\(host)", "reason": "\(reason)", "refused": "\(count)",
        ]) { $1 })
    }

    /// The collector's own failure (its storage), the same whatever the host: one line a
    /// minute for the whole fleet — not one per report from every host — naming the
    /// latest host and how many reports it stands for.
    func failed(host: String, reason: String, _ message: String, at now: Int64) {
        guard let count = due("", reason, at: now) else { return }
        logger.error("\(message)", metadata: ["event": "report_refused", "host": "\(host)", "reason": "\(reason)", "refused": "\(count)"])
    }

    /// A report of `host` was stored: it is no longer refusing.
    func stored(host: String) {
        entries.withLock { entries in
            if !entries.isEmpty { entries.removeValue(forKey: host) }
        }
    }
}
