import AgentReporting
import CollectorClient
import CollectorStore
import CollectorTestSupport
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// The collector's disk fills while agents report: every report is refused with a
/// retryable 503, the agents keep them, and once space returns every one is stored.
struct DiskFullTests {
    /// A scan whose listeners all differ from the last one's, so storing it writes rows.
    static func scanned(_ host: String, round: Int) -> Snapshot {
        let listeners = (0..<300).map { i in
            Listener(transport: .tcp, family: .ipv4, address: "10.0.\(round % 250).\(i % 250)", port: UInt16(1_000 + i),
                     scope: .specific, netns: 1, hostNetns: true, inode: UInt64(round * 1_000 + i), uid: 0, processes: [])
        }
        return Snapshot(host: Host(hostname: host, machineID: "m", bootID: "boot", kernel: nil, os: nil),
                        collectedAt: "2026-11-25T10:00:00Z", complete: true, ownershipComplete: true, warnings: [],
                        namespaces: [], listeners: listeners, unresolved: [])
    }

    @Test(.enabled(if: SmallDisk.available, "mount -t tmpfs is refused here (not root, or a sandbox): the full-disk test cannot run"))
    func aFullDiskRefusesReportsRetryablyAndLosesNone() async throws {
        let disk = try SmallDisk(megabytes: 4)
        let pki = try TestPKI()
        let database = try CollectorDatabase.open(path: disk.path + "/portwarden.sqlite")
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        // Each 503 asks the agent to wait a minute (Retry-After): its clock moves past it.
        let agent = try ReportingAgent(pki, host: "web-01", port: collector.port)
        defer { agent.remove() }
        let (connection, clock, reporter) = (agent.connection, agent.clock, agent.reporter)

        let first = try await blocking { try reporter.report(Self.scanned("web-01", round: 1)) }
        #expect(first.delivered == 1 && first.stoppedBy == nil, "\(first)")

        let filled = disk.fill("filler")
        #expect(filled > 0)
        for round in 2...4 {
            clock.advance(by: 61)
            let refused = try await blocking { try reporter.report(Self.scanned("web-01", round: round)) }
            #expect(refused.delivered == 0 && refused.remaining == round - 1, "\(refused)")
            #expect(refused.stoppedBy?.contains("503") == true, "\(String(describing: refused.stoppedBy))")
        }
        #expect(reporter.delivery.spool.entries().map(\.sequence) == [2, 3, 4], "the agent keeps every refused snapshot")
        let waiting = try reporter.delivery.spool.read(reporter.delivery.spool.entries()[0])
        let direct = try await blocking { try connection.post("/v1/reports", body: waiting) }
        #expect(direct.status == 503 && direct.headers["retry-after"] == "60", "\(direct.status) \(direct.headers)")
        let metrics = try await blocking { try connection.get("/metrics") }
        #expect(metrics.text.contains("portwarden_reports_refused_total{reason=\"storage\"} 4"), "\(metrics.text)")

        // Space returns: the next report delivers everything waiting, oldest first.
        unlink(disk.path + "/filler")
        clock.advance(by: 61)
        let back = try await blocking { try reporter.report(Self.scanned("web-01", round: 5)) }
        #expect(back.delivered == 4 && back.remaining == 0 && back.rejected.isEmpty && back.stoppedBy == nil, "\(back)")
        #expect(reporter.delivery.spool.entries().isEmpty)

        let runs = try database.receiptRuns(host: "web-01"), problems = try database.integrityProblems()
        #expect(runs.map(\.firstSequence) == [1, 2, 3, 4, 5], "every snapshot stored once, in order: nothing lost")
        #expect(runs.allSatisfy { $0.reports == 1 })
        #expect(problems.isEmpty, "\(problems)")
        #expect(try database.openListeners(host: "web-01").count == 300)
        print("disk full: 4 MiB tmpfs, \(filled) bytes of filler; 3 reports refused 503 and spooled, then \(back.delivered) delivered, receipts \(runs.compactMap(\.firstSequence)), integrity problems \(problems)")
    }
}
