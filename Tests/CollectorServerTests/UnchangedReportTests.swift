import AgentReporting
import CollectorClient
import CollectorServer
import CollectorStore
import CollectorTestSupport
import Foundation
import OpenSSLCrypto
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Unchanged reports through the real agent path and the real collector, and what a host
/// could send instead.
struct UnchangedReportTests {
    static func scanned(round: Int, ports: [UInt16] = [22, 557], host: String = "web-01") -> Snapshot {
        Snapshot(host: Host(hostname: host, machineID: "m", bootID: "boot", kernel: "6.1", os: "Debian"),
                 collectedAt: Timestamp.rfc3339(Int64(Date().timeIntervalSince1970)), complete: true, ownershipComplete: true,
                 warnings: [], namespaces: [], listeners: ports.map {
                     Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: $0, scope: .any, netns: 1, hostNetns: true,
                              inode: UInt64(round * 1_000 + Int($0)), uid: 0, processes: [
                                  Owner(pid: Int32(round * 10), name: "sshd", exe: "/usr/sbin/sshd", cmdline: ["sshd", "-D"], uid: 0,
                                        user: "root", unit: nil, container: nil)])
                 }, unresolved: [])
    }

    @Test(arguments: ["SQLite", "PostgreSQL"]) func anAgentReportsItsUnchangedStateAsADigest(_ store: String) async throws {
        let pki = try TestPKI()
        let database = store == "SQLite" ? try HistoryStores.inMemory() : try HistoryStores.open(await TestPostgres.freshDatabase())
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let agent = try ReportingAgent(pki, host: "web-01", port: collector.port)
        defer { agent.remove() }

        let first = try await blocking { try agent.reporter.report(Self.scanned(round: 1)) }
        #expect(first.delivered == 1 && first.unchanged == 0, "\(first)")
        #expect(try database.host(named: "web-01")?.stateDigest == Self.scanned(round: 1).stateDigest,
                "the collector computes the state the agent does")
        for round in 2...4 {
            let result = try await blocking { try agent.reporter.report(Self.scanned(round: round)) }
            #expect(result.delivered == 1 && result.unchanged == 1, "round \(round): \(result)")
        }
        #expect(try database.receiptRuns(host: "web-01").map(\.reports) == [4], "every report in the receipts")
        #expect(try database.host(named: "web-01")?.lastSequence == 4)

        // An operator tags the host: its findings may differ, so the next report comes in full.
        try database.tag(host: "web-01", "pci", at: Int64(Date().timeIntervalSince1970), by: "alice")
        let retagged = try await blocking { try agent.reporter.report(Self.scanned(round: 5)) }
        #expect(retagged.delivered == 1 && retagged.unchanged == 0 && retagged.rejected.isEmpty, "\(retagged)")
        #expect(try database.host(named: "web-01")?.lastSequence == 5)
        let next = try await blocking { try agent.reporter.report(Self.scanned(round: 6)) }
        #expect(next.unchanged == 1)

        // A listener moves: in full, and stored as a change.
        let moved = try await blocking { try agent.reporter.report(Self.scanned(round: 7, ports: [22, 2222])) }
        #expect(moved.delivered == 1 && moved.unchanged == 0)
        #expect(try database.openListeners(host: "web-01").map(\.port) == [22, 2222])
    }

    @Test func whatAHostCanSendAsUnchangedDecidesNothingButItsOwnTimes() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let web = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: try pki.clientContext(try pki.host("web-01")),
                                      timeout: 5)
        let db01 = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port),
                                       context: try pki.clientContext(try pki.host("db-01")), timeout: 5)
        let now = Int64(Date().timeIntervalSince1970)
        func unchanged(_ host: String, _ sequence: UInt64, state: String, at time: Int64 = now) -> [UInt8] {
            UnchangedReport(hostname: host, bootID: "boot", sequence: sequence, collectedAt: Timestamp.rfc3339(time), stateDigest: state,
                            warnings: []).wire
        }
        func post(_ connection: CollectorConnection, _ body: [UInt8], _ headers: [String: String] = [:]) async throws -> HTTPResponse {
            try await blocking { try connection.post("/v1/reports/unchanged", body: body, extraHeaders: headers) }
        }
        let dbState = Self.scanned(round: 1, host: "db-01").stateDigest
        var dbSnapshot = Self.scanned(round: 1, host: "db-01")
        dbSnapshot.sequence = 1
        let full = dbSnapshot.wire(fitting: WireLimits.snapshotBytes).bytes
        let stored = try await blocking { try db01.post("/v1/reports", body: full) }
        #expect(stored.status == 200 && stored.text.contains(#""state_digest":"\#(dbState)""#), "\(stored.text)")

        // A host the collector never stored, and another host's state: 409, nothing written.
        let unknown = try await post(web, unchanged("web-01", 1, state: dbState))
        #expect(unknown.status == 409 && unknown.text.contains("state_unknown"), "\(unknown.text)")
        #expect(try database.host(named: "web-01") == nil)
        // Another host's name in the body: refused as for a full report.
        let other = try await post(web, unchanged("db-01", 2, state: dbState))
        #expect(other.status == 403)
        #expect(try database.host(named: "db-01")?.lastSequence == 1)
        // A clock ahead of the collector's by more than the skew.
        let ahead = try await post(db01, unchanged("db-01", 2, state: dbState, at: now + 3_600))
        #expect(ahead.status == 400 && ahead.text.contains("clock skew"), "\(ahead.text)")
        // Not a digest; not JSON; a full snapshot to the unchanged route.
        for junk in [unchanged("db-01", 2, state: "x"), Array("{".utf8), full] {
            let refused = try await post(db01, junk)
            #expect(refused.status == 400, "\(refused.text)")
        }
        // Gzipped, as any report may be: stored.
        let gzipped = try await post(db01, Gzip.compress(unchanged("db-01", 3, state: dbState)), ["Content-Encoding": "gzip"])
        #expect(gzipped.status == 200 && gzipped.text.contains(#""outcome":"unchanged""#), "\(gzipped.text)")
        #expect(try database.host(named: "db-01")?.lastSequence == 3)
        // Without a certificate: 401.
        let stranger = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: try pki.clientContext(nil), timeout: 5)
        #expect(try await post(stranger, unchanged("db-01", 4, state: dbState)).status == 401)
    }
}
