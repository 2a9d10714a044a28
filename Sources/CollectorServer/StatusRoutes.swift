import CollectorStore
import Foundation
import Hummingbird

/// `GET /healthz` for load balancers and `GET /metrics` for Prometheus.
struct StatusRoutes {
    let database: CollectorDatabase
    let metrics: CollectorMetrics
    let staleAfter: Int64

    func add(to router: Router<CollectorRequestContext>) {
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, context in
            // Hosts and refusal reasons are the fleet's business: fleet certificates only.
            guard context.peer?.host != nil else {
                throw HTTPError(.unauthorized, message: "metrics need a client certificate from the fleet CA")
            }
            let hosts = try await database.hosts(now: Int64(Date().timeIntervalSince1970), staleAfter: staleAfter)
            return metrics.render(hosts: hosts.count, staleHosts: hosts.filter(\.stale).count,
                                  findingsOpen: try await database.openFindingCounts())
        }
    }
}
