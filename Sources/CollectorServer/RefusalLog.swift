import CollectorStore
import Logging
import Synchronization

/// Reports refused for something about the report, from hosts whose certificate was
/// accepted: the host is marked *refusing* in the store (`hosts list`, /metrics, the
/// trend's coverage) so that a wrong clock or a bad agent never makes it vanish quietly.
/// Each refusal is counted in /metrics at once; logging it and writing it to the store
/// (through the ingest thread, in its next transaction) happens at most once a minute per
/// host and reason — a host posting garbage in a loop costs no SQLite write per report.
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
    private let entries = Mutex([String: [RefusalReason: Entry]]())

    init(ingest: IngestQueue, logger: Logger) {
        self.ingest = ingest
        self.logger = logger
    }

    func refused(host: String, _ refusal: ReportRefusal, at now: Int64, metadata: Logger.Metadata = [:]) {
        let count: Int? = entries.withLock { entries in
            if let entry = entries[host]?[refusal.reason], now - entry.written < Self.interval {
                entries[host]![refusal.reason]!.unwritten += 1
                return nil
            }
            let count = (entries[host]?[refusal.reason]?.unwritten ?? 0) + 1
            entries[host, default: [:]][refusal.reason] = Entry(written: now)
            return count
        }
        guard let count else { return }
        var record = HostRefusal(hostName: host, reason: refusal.reason, message: refusal.message, at: now)
        record.refusals = Int64(count)
        ingest.record(record)
        logger.warning("refused a report", metadata: metadata.merging([
            "host": "\(host)", "reason": "\(refusal.reason.rawValue)", "error": "\(refusal.message)",
            "refused": "\(count)",
        ]) { $1 })
    }

    /// A report of `host` was stored: it is no longer refusing.
    func stored(host: String) {
        entries.withLock { entries in
            if !entries.isEmpty { entries.removeValue(forKey: host) }
        }
    }
}
