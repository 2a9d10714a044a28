import AgentReporting
import CollectorClient
import CollectorServer
import CollectorStore
import CollectorTestSupport
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// The agent's reporting path against the real collector: nothing lost while it is
/// away, nothing stored twice when it is back.
struct SpoolTests {
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

        let runs = try database.receiptRuns(host: "web-01")
        #expect(runs.count == 1)
        #expect(runs.first?.reports == 4, "four snapshots, each stored once")
        #expect(runs.first?.firstSequence == 1 && runs.first?.lastSequence == 4)
    }

    /// A torn write and binary junk among the waiting snapshots: both set aside in
    /// `rejected/` without ever reaching the collector, every good one delivered in order.
    @Test func aCorruptSpoolFileIsSetAsideAndTheRestAreDelivered() async throws {
        let pki = try TestPKI()
        let state = try enrolledState(pki, host: "web-01")
        defer { try? FileManager.default.removeItem(atPath: state.directory) }
        let database = try CollectorDatabase.inMemory()
        let metrics = CollectorMetrics()
        let collector = try await RunningCollector.start(pki: pki, database: database, metrics: metrics)
        defer { collector.stop() }
        let spool = Spool(directory: state.spoolDirectory)
        let reporter = Reporter(state: state, delivery: Delivery(
            spool: spool, connection: CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port),
                                                          context: try state.clientContext(), timeout: 5)))
        var writer = JSONWriter()
        writer.value(Self.scanned("web-01"))
        let good = writer.buffer
        func snapshot(_ sequence: UInt64) -> [UInt8] {
            var snapshot = Self.scanned("web-01")
            snapshot.sequence = sequence
            var writer = JSONWriter()
            writer.value(snapshot)
            return writer.buffer
        }
        _ = try state.nextSequence()  // 1: spooled below
        try spool.add(snapshot(1), sequence: 1)
        _ = try state.nextSequence()
        try spool.add(Array(good.prefix(good.count / 2)), sequence: 2)  // torn
        _ = try state.nextSequence()
        try spool.add(snapshot(3), sequence: 3)
        _ = try state.nextSequence()
        let junk: [UInt8] = [0x00, 0xff, 0xfe, 0x7b, 0x22, 0x80] + (0..<500).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let junkPath = state.spoolDirectory + "/00000000000000000004.json"
        try Data(junk).write(to: URL(fileURLWithPath: junkPath))

        let result = try await blocking { try reporter.report(Self.scanned("web-01")) }
        #expect(result.delivered == 3 && result.remaining == 0 && result.stoppedBy == nil, "\(result)")
        #expect(result.rejected.count == 2)
        #expect(result.rejected.first?.contains("snapshot 2: not a snapshot, at byte") == true, "\(result.rejected)")
        #expect(spool.entries().isEmpty)
        let kept = try FileManager.default.contentsOfDirectory(atPath: spool.rejectedDirectory).sorted()
        #expect(kept == ["00000000000000000002.json.bad", "00000000000000000004.json.bad"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: spool.rejectedDirectory + "/" + kept[1])) == Data(junk),
                "kept as it was, for inspection")
        #expect(!metrics.render(hosts: 0, staleHosts: 0).contains("bad_request"), "the corrupt files never reached the collector")
        let runs = try database.receiptRuns(host: "web-01")
        #expect(runs.count == 1 && runs.first?.reports == 3 && runs.first?.lastSequence == 5, "1, 3 and 5 stored")
    }

    @Test func onlyTheNewestRejectedFilesAreKept() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pw-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let spool = Spool(directory: dir)
        for sequence in 1...25 as ClosedRange<UInt64> { try spool.add(Array("junk".utf8), sequence: sequence) }
        for entry in spool.entries() { spool.setAside(entry) }
        let kept = try FileManager.default.contentsOfDirectory(atPath: spool.rejectedDirectory).sorted()
        #expect(kept.count == 20)
        #expect(kept.first == "00000000000000000006.json.bad")
    }

    @Test func aFullSpoolDropsTheOldestAndTheNextReportSaysSo() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pw-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let spool = Spool(directory: dir, maxCount: 2)
        for sequence in 1...5 as ClosedRange<UInt64> { try spool.add(Array("{}".utf8), sequence: sequence) }
        #expect(spool.entries().map(\.sequence) == [4, 5])
        #expect(try spool.takeDrops() == 3)
        #expect(try spool.takeDrops() == 0, "counted once")
    }
}
