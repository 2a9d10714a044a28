import AgentReporting
import CollectorClient
import CollectorStore
import Foundation
import GRDB
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// The agent's reporting path against the real collector: nothing lost while it is
/// away, nothing stored twice when it is back.
struct SpoolTests {
    /// An enrolled agent state in a fresh directory.
    func enrolledState(_ pki: TestPKI, host: String) throws -> AgentState {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pw-agent-state-\(UUID().uuidString)").path
        let state = AgentState(directory: dir)
        try state.prepare()
        let (certificate, key) = try pki.host(host)
        try key.write(to: state.keyPath)
        try FileWriting.write(try certificate.pem(), to: state.certificatePath, mode: 0o644)
        try FileWriting.write(try pki.ca.certificate.pem(), to: state.caPath, mode: 0o644)
        return state
    }

    static func scanned(_ host: String) -> Snapshot {
        Snapshot(host: Host(hostname: host, machineID: "m", bootID: "boot", kernel: "6.1", os: "Debian"),
                 collectedAt: "2026-11-25T10:00:00Z", complete: true, ownershipComplete: true, warnings: [],
                 namespaces: [], listeners: [
                     Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: 557, scope: .any, netns: 1,
                              hostNetns: true, inode: 1, uid: 0, processes: []),
                 ], unresolved: [])
    }

    @Test func snapshotsWaitWhileTheCollectorIsAwayAndArriveOnceEach() async throws {
        let pki = try TestPKI()
        let state = try enrolledState(pki, host: "web-01")
        defer { try? FileManager.default.removeItem(atPath: state.directory) }
        let port = try unusedPort()
        let reporter = Reporter(state: state, delivery: Delivery(
            spool: Spool(directory: state.spoolDirectory),
            connection: CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try state.clientContext(),
                                            timeout: 5)))

        for run in 1...3 {
            let result = try await blocking { try reporter.report(Self.scanned("web-01")) }
            #expect(result.delivered == 0)
            #expect(result.remaining == run)
            #expect(result.stoppedBy?.contains("refused") == true, "\(String(describing: result.stoppedBy))")
        }
        #expect(reporter.delivery.spool.entries().map(\.sequence) == [1, 2, 3])

        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database, port: port)
        defer { collector.stop() }
        let result = try await blocking { try reporter.report(Self.scanned("web-01")) }
        #expect(result.delivered == 4 && result.remaining == 0 && result.rejected.isEmpty && result.stoppedBy == nil)
        #expect(reporter.delivery.spool.entries().isEmpty)

        let runs = try await database.reader.read { try ReceiptRun.fetchAll($0) }
        #expect(runs.count == 1)
        #expect(runs.first?.reports == 4, "four snapshots, each stored once")
        #expect(runs.first?.firstSequence == 1 && runs.first?.lastSequence == 4)
    }

    @Test func aFullSpoolDropsTheOldestAndTheNextReportSaysSo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pw-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let spool = Spool(directory: dir, maxCount: 2)
        for sequence in 1...5 as ClosedRange<UInt64> { try spool.add(Array("{}".utf8), sequence: sequence) }
        #expect(spool.entries().map(\.sequence) == [4, 5])
        #expect(spool.takeDrops() == 3)
        #expect(spool.takeDrops() == 0, "counted once")
    }
}
