import Synchronization

/// The collector's counters, rendered in Prometheus's text format at `GET /metrics`.
public final class CollectorMetrics: Sendable {
    private struct State {
        var reports: [String: Int] = [:]  // outcome → count
        var refused: [String: Int] = [:]  // reason → count
        var handshakeFailures = 0
        var openConnections = 0
        var ingestBuckets = [Int](repeating: 0, count: CollectorMetrics.bucketBounds.count)
        var ingestCount = 0
        var ingestSum = 0.0
    }

    /// Upper bounds of the ingest-latency histogram, in seconds.
    static let bucketBounds = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

    private let state = Mutex(State())

    public init() {}

    func accepted(_ outcome: String, seconds: Double) {
        state.withLock {
            $0.reports[outcome, default: 0] += 1
            $0.ingestCount += 1
            $0.ingestSum += seconds
            for (i, bound) in Self.bucketBounds.enumerated() where seconds <= bound { $0.ingestBuckets[i] += 1 }
        }
    }

    func refused(_ reason: String) { state.withLock { $0.refused[reason, default: 0] += 1 } }
    func handshakeFailed() { state.withLock { $0.handshakeFailures += 1 } }
    func connectionOpened() { state.withLock { $0.openConnections += 1 } }
    func connectionClosed() { state.withLock { $0.openConnections -= 1 } }

    /// The text exposition format; `hosts` is read from the database at scrape time.
    public func render(hosts: Int, staleHosts: Int) -> String {
        state.withLock { s in
            var out = "# HELP portwarden_reports_total Reports accepted, by what they did to the history.\n"
            out += "# TYPE portwarden_reports_total counter\n"
            for outcome in ["changed", "unchanged", "duplicate"] {
                out += "portwarden_reports_total{outcome=\"\(outcome)\"} \(s.reports[outcome, default: 0])\n"
            }
            out += "# HELP portwarden_reports_refused_total Reports refused, by reason.\n"
            out += "# TYPE portwarden_reports_refused_total counter\n"
            for (reason, count) in s.refused.sorted(by: { $0.key < $1.key }) {
                out += "portwarden_reports_refused_total{reason=\"\(reason)\"} \(count)\n"
            }
            out += "# HELP portwarden_tls_handshake_failures_total Connections refused in the TLS handshake.\n"
            out += "# TYPE portwarden_tls_handshake_failures_total counter\n"
            out += "portwarden_tls_handshake_failures_total \(s.handshakeFailures)\n"
            out += "# HELP portwarden_ingest_seconds Time to store one report.\n"
            out += "# TYPE portwarden_ingest_seconds histogram\n"
            for (i, bound) in Self.bucketBounds.enumerated() {
                out += "portwarden_ingest_seconds_bucket{le=\"\(bound)\"} \(s.ingestBuckets[i])\n"
            }
            out += "portwarden_ingest_seconds_bucket{le=\"+Inf\"} \(s.ingestCount)\n"
            out += "portwarden_ingest_seconds_sum \(s.ingestSum)\nportwarden_ingest_seconds_count \(s.ingestCount)\n"
            out += "# HELP portwarden_hosts Hosts known to the collector, by state.\n# TYPE portwarden_hosts gauge\n"
            out += "portwarden_hosts{state=\"reporting\"} \(hosts - staleHosts)\nportwarden_hosts{state=\"stale\"} \(staleHosts)\n"
            out += "# HELP portwarden_open_connections TLS connections open now.\n# TYPE portwarden_open_connections gauge\n"
            out += "portwarden_open_connections \(s.openConnections)\n"
            return out
        }
    }
}
