import CollectorStore
import Policy
import Synchronization

/// Why a host's idle connection — one answered and waiting for its next report — was
/// closed; strangers' are counted apart (`strangerGaveWay`) or not at all (`header_timeout`).
enum IdleClose: String, CaseIterable {
    /// To admit a new connection at `max_connections` or the per-address cap: the host
    /// reconnects at its next report.
    case gaveWay = "gave_way"
    /// A host's, idle past `keepalive_timeout` (a stranger's, past `header_timeout`, is not counted).
    case keepaliveTimeout = "keepalive_timeout"
}

/// The collector's counters, rendered in Prometheus's text format at `GET /metrics`.
public final class CollectorMetrics: Sendable {
    private struct State {
        var reports: [String: Int] = [:]  // outcome → count
        var refused: [String: Int] = [:]  // reason → count
        var throttled: [String: Int] = [:]  // host → reports refused past its budget
        var handshakeFailures = 0
        var handshakes = (full: 0, resumed: 0)
        /// Requests, by whether an earlier one was answered on their connection.
        var requests = (new: 0, kept: 0)
        var ingestBuckets = [Int](repeating: 0, count: CollectorMetrics.bucketBounds.count)
        var ingestCount = 0
        var ingestSum = 0.0
        var policyVersion: String?
        var policyLoadErrors = 0
        var policyLastLoadFailed = false
        var policyTests = PolicyTestReport()
        var connectionsRefused: [ConnectionRefusal: Int] = [:]
        var connectionLimits: ConnectionLimits?
        /// Idle connections closed, by why.
        var idleClosed: [IdleClose: Int] = [:]
        /// Connections without a fleet certificate closed to admit a new one (`Connections.GaveWay.stranger`).
        var strangersGaveWay = 0
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
    func throttled(host: String) { state.withLock { $0.throttled[host, default: 0] += 1 } }
    func handshakeFailed() { state.withLock { $0.handshakeFailures += 1 } }
    func handshakeDone(resumed: Bool) {
        state.withLock { if resumed { $0.handshakes.resumed += 1 } else { $0.handshakes.full += 1 } }
    }
    func request(onKeptConnection kept: Bool) { state.withLock { if kept { $0.requests.kept += 1 } else { $0.requests.new += 1 } } }
    func connectionRefused(_ reason: ConnectionRefusal) { state.withLock { $0.connectionsRefused[reason, default: 0] += 1 } }
    func idleClosed(_ reason: IdleClose) { state.withLock { $0.idleClosed[reason, default: 0] += 1 } }
    func strangerGaveWay() { state.withLock { $0.strangersGaveWay += 1 } }
    func connectionLimits(_ limits: ConnectionLimits) { state.withLock { $0.connectionLimits = limits } }
    func policyLoaded(version: String) {
        state.withLock {
            $0.policyVersion = version
            $0.policyLastLoadFailed = false
        }
    }
    func policyTests(_ report: PolicyTestReport) { state.withLock { $0.policyTests = report } }
    func policyLoadFailed() {
        state.withLock {
            $0.policyLoadErrors += 1
            $0.policyLastLoadFailed = true
        }
    }

    /// Severities, mildest first, as `portwarden_findings_open` labels them.
    static let severities = Severity.allCases.map(\.rawValue)

    /// The text exposition format; `hosts`, `refusing` and `findingsOpen` (unwaived, by
    /// severity) are read from the database at scrape time (`hosts` counts the stale and
    /// the refusing too), `openConnections` and `queuedReports` from the server.
    public func render(hosts: Int, staleHosts: Int, findingsOpen: [String: Int] = [:], openConnections: Int = 0,
                       idleConnections: Int = 0, refusing: [HostRefusal] = [], queuedReports: Int = 0) -> String {
        let s = state.withLock { $0 }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(String, String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (suffix, value) in samples { out += "\(name)\(suffix) \(value)\n" }
        }
        family("portwarden_reports_total", "counter", "Reports accepted, by what they did to the history.",
               ["changed", "unchanged", "duplicate"].map { ("{outcome=\"\($0)\"}", "\(s.reports[$0, default: 0])") })
        family("portwarden_reports_refused_total", "counter", "Reports refused, by reason.",
               s.refused.sorted { $0.key < $1.key }.map { ("{reason=\"\($0.key)\"}", "\($0.value)") })
        family("portwarden_tls_handshake_failures_total", "counter", "Connections refused in the TLS handshake.",
               [("", "\(s.handshakeFailures)")])
        family("portwarden_tls_handshakes_total", "counter", "TLS handshakes completed, by whether a session was resumed.",
               [("{resumed=\"false\"}", "\(s.handshakes.full)"), ("{resumed=\"true\"}", "\(s.handshakes.resumed)")])
        family("portwarden_requests_total", "counter",
               "Requests, by connection: the first on its connection (new), or on one kept from an earlier answer (kept).",
               [("{connection=\"new\"}", "\(s.requests.new)"), ("{connection=\"kept\"}", "\(s.requests.kept)")])
        family("portwarden_ingest_seconds", "histogram", "Time to store one report.",
               zip(Self.bucketBounds, s.ingestBuckets).map { ("_bucket{le=\"\($0)\"}", "\($1)") }
                   + [("_bucket{le=\"+Inf\"}", "\(s.ingestCount)"), ("_sum", "\(s.ingestSum)"), ("_count", "\(s.ingestCount)")])
        family("portwarden_hosts", "gauge", "Hosts known to the collector, by state.",
               [("{state=\"reporting\"}", "\(hosts - staleHosts - refusing.count)"), ("{state=\"stale\"}", "\(staleHosts)"),
                ("{state=\"refusing\"}", "\(refusing.count)")])
        family("portwarden_host_refusing", "gauge",
               "Hosts whose newest report was refused, by host and reason (1 each): what they listen on is unknown.",
               refusing.sorted { $0.hostName < $1.hostName }.map {
                   ("{host=\"\(Self.label($0.hostName))\",reason=\"\($0.reason.rawValue)\"}", "1")
               })
        family("portwarden_host_reports_throttled_total", "counter",
               "Reports refused (429) because the host was past its budget, by host; only hosts ever throttled are listed.",
               s.throttled.sorted { $0.key < $1.key }.map { ("{host=\"\(Self.label($0.key))\"}", "\($0.value)") })
        family("portwarden_ingest_queue_reports", "gauge", "Reports decoded and waiting for the ingest thread.",
               [("", "\(queuedReports)")])
        family("portwarden_open_connections", "gauge", "TLS connections open now.", [("", "\(openConnections)")])
        family("portwarden_idle_connections", "gauge",
               "Of the open connections, those kept between a host's requests (keepalive_timeout).",
               [("", "\(idleConnections)")])
        family("portwarden_idle_connections_closed_total", "counter",
               "Hosts' idle connections the collector closed: to admit a new one at a cap (gave_way: the host reconnects at "
                   + "its next report), or idle past keepalive_timeout.",
               IdleClose.allCases.map { ("{reason=\"\($0.rawValue)\"}", "\(s.idleClosed[$0, default: 0])") })
        family("portwarden_strangers_gave_way_total", "counter",
               "Connections without a fleet certificate (idle, in a handshake, enrolling, or never finishing a request) closed "
                   + "to admit a new one at max_connections or max_connections_per_address.",
               [("", "\(s.strangersGaveWay)")])
        family("portwarden_connections_refused_total", "counter",
               "Connections closed before any request: past a cap (never read), no TLS handshake within handshake_timeout, or stopping.",
               ConnectionRefusal.allCases.map { ("{reason=\"\($0.rawValue)\"}", "\(s.connectionsRefused[$0, default: 0])") })
        family("portwarden_connections_max", "gauge", "The caps on open connections in force, after the descriptor limit.",
               s.connectionLimits.map { [("{scope=\"total\"}", "\($0.total)"), ("{scope=\"per_address\"}", "\($0.perAddress)")] } ?? [])
        family("portwarden_policy_info", "gauge", "The policy in force, by version (the digest of its files).",
               s.policyVersion.map { [("{version=\"\($0)\"}", "1")] } ?? [])
        family("portwarden_policy_load_errors_total", "counter", "Policy loads refused for errors; the policy in force stayed.",
               [("", "\(s.policyLoadErrors)")])
        family("portwarden_policy_last_load_failed", "gauge", "1 when the newest attempt to load the policy was refused.",
               [("", s.policyLastLoadFailed ? "1" : "0")])
        family("portwarden_policy_tests", "gauge",
               "The policy in force's test cases (tests/*.yaml) by result when it was loaded; unreadable: errors in test files.",
               [("{result=\"passed\"}", "\(s.policyTests.passed)"), ("{result=\"failed\"}", "\(s.policyTests.failed.count)"),
                ("{result=\"unreadable\"}", "\(s.policyTests.unreadable.count)")])
        family("portwarden_findings_open", "gauge", "Open findings not waived, by severity.",
               Self.severities.map { ("{severity=\"\($0)\"}", "\(findingsOpen[$0, default: 0])") })
        return out
    }

    /// A label value in the exposition format: backslash, quote and newline escaped.
    static func label(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }
}
