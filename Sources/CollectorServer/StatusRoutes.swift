import CollectorStore
import Foundation

/// `GET /healthz` for load balancers and `GET /metrics` for Prometheus.
struct StatusRoutes {
    let database: any HistoryStore
    let metrics: CollectorMetrics
    let connections: Connections
    let ingest: IngestQueue
    let staleAfter: Int64
    var certificateEnds: [String: Int64] = [:]
    /// Hosts whose current certificate ends within this are counted in /metrics: they
    /// should have renewed (agents renew with a third of the lifetime left, 30 of 90 days).
    static let expiringWithin: Int64 = 30 * 86_400

    func add(to routes: inout Routes) {
        // Asks the database (a read, blocking): a load balancer then sends agents to a
        // collector whose database answers. Reports meanwhile get 503 with Retry-After.
        routes.add(.GET, "/healthz", .blocking) { _ in
            do {
                _ = try database.appliedMigrations()
            } catch is StorageUnavailable {
                // Asked without a certificate: the reason (the database's host and port) is the collector's log's.
                throw HTTPFailure(.serviceUnavailable, headers: ["Retry-After": "\(ReportRoutes.retryAfterSeconds)"],
                                  message: "database unavailable")
            }
            return .text("ok\n")
        }
        routes.add(.GET, "/metrics", .blocking) { request in
            // Hosts and refusal reasons are the fleet's business: fleet certificates only.
            guard request.peer?.host != nil else {
                throw HTTPFailure(.unauthorized, message: "metrics need a client certificate from the fleet CA")
            }
            let now = Int64(Date().timeIntervalSince1970)
            let hosts = try database.hostCounts(now: now, staleAfter: staleAfter)
            let expiring = try database.currentCertificatesEnding(before: now + Self.expiringWithin)
            return .text(metrics.render(hosts: hosts.all, staleHosts: hosts.stale, findingsOpen: try database.openFindingCounts(),
                                        openConnections: connections.count, idleConnections: connections.idleCount, refusing: Array(try database.currentRefusals().values),
                                        queuedReports: ingest.count)
                         + CollectorMetrics.renderCertificates(expiring: expiring, ends: certificateEnds))
        }
    }
}
