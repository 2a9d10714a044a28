import AgentReporting
import CollectorClient
import Foundation
import OpenSSLCrypto
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// A snapshot whose state the collector acknowledged last goes as an unchanged report,
/// and in full at once whenever the collector cannot place it.
struct UnchangedDeliveryTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-unchanged-\(UUID().uuidString)").path

    /// Snapshot `sequence` with one listener on `port` (its inode and pid change every time: no change of state).
    static func snapshot(_ sequence: UInt64, port: UInt16 = 22, owner: String = "sshd") -> [UInt8] {
        let snapshot = Snapshot(
            host: Host(hostname: "web-01", machineID: "m", bootID: "b", kernel: nil, os: nil), sequence: sequence,
            collectedAt: "2026-11-25T10:00:00Z", complete: true, ownershipComplete: true, warnings: [], namespaces: [],
            listeners: [Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: port, scope: .any, netns: 1,
                                 hostNetns: true, inode: sequence, uid: 0, processes: [
                                     Owner(pid: Int32(100 + sequence), name: owner, exe: nil, cmdline: [String(repeating: "x", count: 3000)],
                                           uid: 0, user: nil, unit: nil, container: nil)])],
            unresolved: [])
        var writer = JSONWriter()
        writer.value(snapshot)
        return writer.buffer
    }

    func delivery(_ pki: TestPKI, _ stub: StubCollector, spooling snapshots: [(UInt64, [UInt8])]) throws -> Delivery {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let spool = Spool(directory: directory)
        for (sequence, body) in snapshots { try spool.add(body, sequence: sequence) }
        let connection = CollectorConnection(host: "127.0.0.1", port: stub.port, context: try pki.clientContext(try pki.host("web-01")),
                                             timeout: 5)
        return Delivery(spool: spool, connection: connection)
    }

    /// What a collector that takes unchanged reports answers (the stub sees no path: an
    /// unchanged report is the body that is not a snapshot).
    static func current(_ request: StubCollector.Request) -> String {
        StubCollector.answer(200, [], #"{"outcome":"unchanged"}"#)
    }

    @Test func theSameStateGoesAsADigestAndAnotherInFull() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let stub = try StubCollector(pki: pki, answer: Self.current)
        defer { stub.stop() }
        let result = try delivery(pki, stub, spooling: [(1, Self.snapshot(1)), (2, Self.snapshot(2)), (3, Self.snapshot(3, port: 557)),
                                                       (4, Self.snapshot(4, port: 557))]).run()
        #expect(result.delivered == 4 && result.unchanged == 2 && result.remaining == 0, "\(result)")
        #expect(stub.sequences == [1, nil, 3, nil], "full, unchanged, full (a new state), unchanged")
        #expect(stub.requests[1].bytes < 400, "an unchanged report is small: \(stub.requests[1].bytes) bytes")
    }

    @Test(arguments: [409, 404]) func aCollectorThatCannotPlaceItGetsTheSnapshotAtOnce(status: Int) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        // 409: a collector without that state; 404: one before unchanged reports.
        let stub = try StubCollector(pki: pki) { request in
            request.snapshot == nil ? StubCollector.answer(status, [], "not here\n") : StubCollector.answer(200, [], "{}")
        }
        defer { stub.stop() }
        let delivery = try delivery(pki, stub, spooling: [(1, Self.snapshot(1)), (2, Self.snapshot(2))])
        let result = delivery.run()
        #expect(result.delivered == 2 && result.unchanged == 0 && result.rejected.isEmpty && result.stoppedBy == nil, "\(result)")
        #expect(stub.sequences == [1, nil, 2], "the full snapshot follows the refused digest in the same run")
    }

    @Test func aTrimmedSnapshotIsRememberedAsTrimmed() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        // Takes nothing over 2,000 bytes: the 3,000-byte command line is trimmed.
        let stub = try StubCollector(pki: pki) { request in
            request.bytes > 2_000 ? StubCollector.answer(413, ["X-Portwarden-Max-Report-Bytes: 2000"]) : Self.current(request)
        }
        defer { stub.stop() }
        let result = try delivery(pki, stub, spooling: [(1, Self.snapshot(1)), (2, Self.snapshot(2))]).run()
        #expect(result.delivered == 2 && result.trimmed.count == 2, "\(result)")
        // The collector holds the trimmed state; the untrimmed one never matches it.
        #expect(stub.sequences == [1, 1, 2, 2], "\(stub.sequences)")
        #expect(result.unchanged == 0)
    }

    @Test func aLostOrForeignDigestFileOnlyCostsAFullReport() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let stub = try StubCollector(pki: pki, answer: Self.current)
        defer { stub.stop() }
        let delivery = try delivery(pki, stub, spooling: [(1, Self.snapshot(1))])
        #expect(delivery.run().delivered == 1)
        for junk in ["", "../../etc/passwd\n", String(repeating: "z", count: 64)] {
            try junk.write(toFile: directory + "/acknowledged-state", atomically: true, encoding: .utf8)
            try delivery.spool.add(Self.snapshot(2), sequence: 2)
            let result = delivery.run()
            #expect(result.delivered == 1 && result.unchanged == 0, "\(junk): \(result)")
            try delivery.spool.add(Self.snapshot(3), sequence: 3)
            #expect(delivery.run().unchanged == 1, "remembered again after the full report")
            stub.forget()
        }
    }
}
