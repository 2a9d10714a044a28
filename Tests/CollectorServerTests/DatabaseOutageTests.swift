import AgentReporting
import CollectorClient
import CollectorStore
import CollectorTestSupport
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// PostgreSQL goes away while agents report: reports get 503 with Retry-After (the agent
/// spools them), /healthz says "database unavailable", and once the server is back the
/// collector reconnects by itself and stores everything waiting, once.
/// The store's opening runs on a thread of its own (`blocking`), as the cluster's commands
/// do: they take seconds, and the suite's other servers need the cooperative threads meanwhile.
struct DatabaseOutageTests {
    /// /healthz needs no certificate: a load balancer asks it.
    @Test func healthSaysTheDatabaseIsUnavailableUntilItIsBack() async throws {
        let (cluster, pki, collector, _) = try await Self.collectorOnItsOwnCluster()
        defer { collector.stop() }
        let balancer = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: try pki.clientContext(nil),
                                           timeout: 15)
        #expect(try await blocking { try balancer.get("/healthz") }.status == 200)
        try await cluster.stop()
        for _ in 0..<2 {
            let down = try await blocking { try balancer.get("/healthz") }
            #expect(down.status == 503 && down.text.hasPrefix("database unavailable") && down.headers["retry-after"] == "60",
                    "\(down.status) \(down.text)")
        }
        try await cluster.start()
        let back = try await blocking { try balancer.get("/healthz") }
        #expect(back.status == 200 && back.text == "ok\n", "the collector reconnects by itself: \(back.status) \(back.text)")
    }

    @Test func reportsWaitOutADatabaseOutageAndHealthSaysSo() async throws {
        let (cluster, pki, collector, database) = try await Self.collectorOnItsOwnCluster()
        defer { collector.stop() }
        let agent = try ReportingAgent(pki, host: "web-01", port: collector.port)
        defer { agent.remove() }
        let (connection, clock, reporter) = (agent.connection, agent.clock, agent.reporter)
        let healthy = try await blocking { try connection.get("/healthz") }
        #expect(healthy.status == 200 && healthy.text == "ok\n", "\(healthy.status) \(healthy.text)")
        let first = try await blocking { try reporter.report(DiskFullTests.scanned("web-01", round: 1)) }
        #expect(first.delivered == 1 && first.stoppedBy == nil, "\(first)")

        try await cluster.stop()
        for round in 2...3 {
            clock.advance(by: 61)
            let refused = try await blocking { try reporter.report(DiskFullTests.scanned("web-01", round: round)) }
            #expect(refused.delivered == 0 && refused.stoppedBy?.contains("503") == true, "\(refused)")
        }
        let waiting = try reporter.delivery.spool.read(reporter.delivery.spool.entries()[0])
        let direct = try await blocking { try connection.post("/v1/reports", body: waiting) }
        #expect(direct.status == 503 && direct.headers["retry-after"] == "60", "\(direct.status) \(direct.headers)")
        let down = try await blocking { try connection.get("/healthz") }
        #expect(down.status == 503 && down.text.contains("database unavailable") && down.headers["retry-after"] == "60",
                "\(down.status) \(down.text)")

        try await cluster.start()
        let back = try await blocking { try connection.get("/healthz") }
        #expect(back.status == 200, "the collector reconnects by itself: \(back.status) \(back.text)")
        clock.advance(by: 61)
        let resumed = try await blocking { try reporter.report(DiskFullTests.scanned("web-01", round: 4)) }
        #expect(resumed.delivered == 3 && resumed.remaining == 0 && resumed.stoppedBy == nil, "\(resumed)")
        let runs = try database.receiptRuns(host: "web-01")
        #expect(runs.map(\.firstSequence) == [1, 2, 3, 4], "every report stored once, in order")
    }

    /// A collector on a database of a cluster of its own: stopping the shared one would fail
    /// the other tests' stores.
    static func collectorOnItsOwnCluster() async throws
        -> (cluster: TestPostgres.Cluster, pki: TestPKI, collector: RunningCollector, database: any HistoryStore)
    {
        let cluster = try await TestPostgres.privateCluster()
        let url = try await cluster.freshDatabase()
        let database = try await blocking { try HistoryStores.open(url) }
        let pki = try TestPKI()
        return (cluster, pki, try await RunningCollector.start(pki: pki, database: database), database)
    }
}
