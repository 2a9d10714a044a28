import AgentReporting
import CollectorClient
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Synchronization
import Testing

/// What the agent does with each answer a collector can give: wait when asked, set aside
/// what will never be taken, and let no spooled snapshot block the ones after it.
struct DeliveryTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-delivery-\(UUID().uuidString)").path

    static func snapshot(_ sequence: UInt64, host: String = "web-01") -> [UInt8] {
        let snapshot = Snapshot(
            host: Host(hostname: host, machineID: "m", bootID: "b", kernel: nil, os: nil), sequence: sequence,
            collectedAt: "2026-11-25T10:00:00Z", complete: true, ownershipComplete: true, warnings: [], namespaces: [],
            // A port of its own: each is a new state, sent in full (UnchangedDeliveryTests has the others).
            listeners: [Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: UInt16(1_000 + sequence % 60_000), scope: .any,
                                 netns: 1, hostNetns: true, inode: sequence, uid: 0, processes: [])],
            unresolved: [])
        var writer = JSONWriter()
        writer.value(snapshot)
        return writer.buffer
    }

    /// A spool holding snapshots `sequences`, and a delivery to `stub` on `clock`.
    func delivery(_ pki: TestPKI, _ stub: StubCollector, _ clock: ManualClock, spooling sequences: ClosedRange<UInt64>) throws -> Delivery {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let spool = Spool(directory: directory)
        for sequence in sequences { try spool.add(Self.snapshot(sequence), sequence: sequence) }
        let connection = CollectorConnection(host: "127.0.0.1", port: stub.port, context: try pki.clientContext(try pki.host("web-01")),
                                             timeout: 5)
        return Delivery(spool: spool, connection: connection, now: { clock.now })
    }

    /// 429 and 503 with Retry-After: delivery stops at once and nothing is sent until the
    /// time has passed — not by the next run either (the pause is on disk).
    @Test(arguments: [429, 503])
    func retryAfterStopsDeliveryUntilItHasPassed(status: Int) throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let stub = try StubCollector(pki: pki) { _ in StubCollector.answer(status, ["Retry-After: 120"], "slow down\n") }
        defer { stub.stop() }
        let clock = ManualClock()
        let delivery = try delivery(pki, stub, clock, spooling: 1...3)

        let first = delivery.run()
        #expect(first.delivered == 0 && first.remaining == 3 && first.rejected.isEmpty, "\(first)")
        #expect(first.stoppedBy?.contains("answered \(status): slow down") == true, "\(first)")
        #expect(first.retryAt == clock.now + 120)
        #expect(stub.sequences == [1], "stopped at the first answer")

        clock.advance(by: 119)
        let again = delivery.run()
        #expect(again.retryAt == first.retryAt && again.remaining == 3 && again.stoppedBy?.contains("paused") == true, "\(again)")
        let restarted = Delivery(spool: delivery.spool, connection: delivery.connection, now: { clock.now }).run()
        #expect(restarted.retryAt == first.retryAt, "a new process reads the pause from disk")
        #expect(stub.sequences == [1], "nothing sent before Retry-After has passed")

        clock.advance(by: 2)
        _ = delivery.run()
        #expect(stub.sequences == [1, 1], "asked again once it has")
    }

    /// A Retry-After far beyond an hour is taken as an hour; one written by a clock that
    /// has since jumped back is ignored rather than obeyed for days.
    @Test func anAbsurdRetryAfterIsCappedAtAnHour() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let stub = try StubCollector(pki: pki) { _ in StubCollector.answer(429, ["Retry-After: 99999999999"]) }
        defer { stub.stop() }
        let clock = ManualClock()
        let delivery = try delivery(pki, stub, clock, spooling: 1...1)
        #expect(delivery.run().retryAt == clock.now + HTTPResponse.maxRetryAfter)
        try "\(clock.now + 30 * 86_400)\nfrom a clock far ahead\n".write(toFile: directory + "/paused-until", atomically: true, encoding: .utf8)
        #expect(delivery.run().retryAt == clock.now + HTTPResponse.maxRetryAfter, "a month-long pause is not believed: asked again")
        #expect(stub.requests.count == 2)
    }

    /// 413 stating a limit: the snapshot goes again trimmed to it, the warning in it says
    /// so, the spool file is replaced by what was sent, and the next is not held up.
    @Test func a413IsAnsweredWithTheSnapshotTrimmedToTheStatedLimit() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let limit = 4_096
        let stub = try StubCollector(pki: pki) {
            $0.bytes > limit ? StubCollector.answer(413, ["X-Portwarden-Max-Report-Bytes: \(limit)"], "too large\n")
                : StubCollector.answer(200)
        }
        defer { stub.stop() }
        let delivery = try delivery(pki, stub, ManualClock(), spooling: 2...2)
        // Within every bound of the wire format (a command line of 4 KiB), over the collector's limit.
        var big = try Snapshot(wire: Self.snapshot(1))
        big.listeners[0].processes = [Owner(pid: 4242, name: "python3", exe: "/usr/bin/python3",
                                            cmdline: ["python3", String(repeating: "A", count: 4_000)], uid: 65534,
                                            user: "nobody", unit: nil, container: nil)]
        var writer = JSONWriter()
        writer.value(big)
        try delivery.spool.add(writer.buffer, sequence: 1)

        let result = delivery.run()
        #expect(result.delivered == 2 && result.remaining == 0 && result.rejected.isEmpty, "\(result)")
        #expect(result.trimmed.count == 1 && result.trimmed[0].hasPrefix("snapshot 1: report trimmed from"), "\(result.trimmed)")
        try #require(stub.sequences == [1, 1, 2])
        let stored = try #require(stub.requests[1].snapshot)
        #expect(stub.requests[1].bytes <= limit)
        #expect(stored.warnings.last?.contains("to fit a limit of 4096 bytes: the command lines of 1 process (listed under 1 socket) cut") == true,
                "\(stored.warnings)")
        #expect(stored.listeners[0].processes[0].cmdline == [WireLimits.truncationMarker])
        #expect(stored.listeners[0].processes[0].name == "python3", "only what had to go went")
    }

    /// A collector that states a limit no trimming reaches: set aside, saying what to change.
    @Test func aLimitNoTrimmingReachesSetsTheSnapshotAside() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let stub = try StubCollector(pki: pki) { _ in StubCollector.answer(413, ["X-Portwarden-Max-Report-Bytes: 10"]) }
        defer { stub.stop() }
        let result = try delivery(pki, stub, ManualClock(), spooling: 1...1).run()
        #expect(result.rejected.count == 1 && result.rejected[0].contains("over the limit of 10: raise max_report_bytes"),
                "\(result.rejected)")
        #expect(stub.sequences == [1], "not sent again: it could not fit")
    }

    /// A snapshot the collector refuses for good (4xx) is set aside; the ones after it go.
    @Test func aRefusedSnapshotIsSetAsideAndTheRestDelivered() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let stub = try StubCollector(pki: pki) {
            $0.sequence == 2 ? StubCollector.answer(400, [], "not a snapshot: at byte 1\n") : StubCollector.answer(200)
        }
        defer { stub.stop() }
        let result = try delivery(pki, stub, ManualClock(), spooling: 1...4).run()
        #expect(result.delivered == 3 && result.remaining == 0 && result.stoppedBy == nil, "\(result)")
        #expect(result.rejected.count == 1 && result.rejected[0].contains("snapshot 2: the collector answered 400: not a snapshot"),
                "\(result.rejected)")
        #expect(stub.sequences == [1, 2, 3, 4])
    }

    /// A snapshot the collector keeps failing on (500, as it would on one that crashes
    /// it) while it takes the others: after three runs it is passed by, and set aside once
    /// the next is taken. The rest of the spool is not blocked for good.
    @Test func aSnapshotThatKeepsFailingIsPassedByAfterThreeRuns() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let stub = try StubCollector(pki: pki) {
            $0.sequence == 1 ? StubCollector.answer(500, [], "internal error\n") : StubCollector.answer(200)
        }
        defer { stub.stop() }
        let delivery = try delivery(pki, stub, ManualClock(), spooling: 1...3)
        for run in 1..<Delivery.suspectAfter {
            let result = delivery.run()
            #expect(result.delivered == 0 && result.remaining == 3 && result.rejected.isEmpty, "run \(run): \(result)")
            #expect(result.stoppedBy?.contains("500") == true)
        }
        let third = delivery.run()
        #expect(third.delivered == 2 && third.remaining == 0, "\(third)")
        #expect(third.rejected.count == 1 && third.rejected[0].contains("snapshot 1: failed 3 times (the collector answered 500"),
                "\(third.rejected)")
        #expect(stub.sequences == [1, 1, 1, 2, 3])
        #expect(try FileManager.default.contentsOfDirectory(atPath: delivery.spool.rejectedDirectory) == ["00000000000000000001.json.bad"])
    }

    /// A collector that fails every snapshot (500) is the collector's fault: however many
    /// runs, nothing is set aside and nothing lost.
    @Test func aCollectorFailingEverySnapshotLosesNone() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let stub = try StubCollector(pki: pki) { _ in StubCollector.answer(500, [], "database locked\n") }
        defer { stub.stop() }
        let delivery = try delivery(pki, stub, ManualClock(), spooling: 1...3)
        for _ in 1...6 {
            let result = delivery.run()
            #expect(result.delivered == 0 && result.remaining == 3 && result.rejected.isEmpty, "\(result)")
        }
        #expect(stub.sequences.filter { $0 == 2 }.count == 4, "from the third run on, 2 is tried after 1 and fails too")
        #expect(!stub.sequences.contains(3), "one failed probe stops the run")
    }

    /// An unreachable collector counts against no snapshot.
    @Test func anUnreachableCollectorCountsAgainstNoSnapshot() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let stub = try StubCollector(pki: pki) { _ in StubCollector.answer(200) }
        stub.stop()
        let delivery = try delivery(pki, stub, ManualClock(), spooling: 1...2)
        for _ in 1...5 {
            let result = delivery.run()
            #expect(result.remaining == 2 && result.rejected.isEmpty && result.stoppedBy?.contains("refused") == true, "\(result)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "/00000000000000000001.json.failures"))
    }

    /// A collector at its connection cap closes a newcomer that has not finished its
    /// handshake — after the agent, whose side of a TLS 1.3 handshake ends first, wrote its
    /// report on it. That report never reached the collector: no failure counts against
    /// the snapshot, so a flood cannot make agents set real snapshots aside. A collector
    /// that finished the handshake and then died with the report does count.
    @Test func aConnectionClosedBeforeTheCollectorFinishedItsHandshakeCountsAgainstNoSnapshot() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let serverContext = try pki.serverContext()
        guard let (listener, port) = loopbackSocket(), listen(listener, 16) == 0 else { throw CancellationError() }
        defer { shutdown(listener, Int32(SHUT_RDWR)); close(listener) }
        let finishes = Mutex(false)
        Thread {
            while true {
                let fd = accept(listener, nil, nil)
                guard fd >= 0 else { return }
                TCP.setTimeouts(fd, seconds: 5)
                defer { close(fd) }
                guard let tls = try? TLSConnection(context: serverContext) else { continue }
                var buffer = [UInt8](repeating: 0, count: 65_536)
                func receive() -> [UInt8] {
                    let n = read(fd, &buffer, buffer.count)
                    return n > 0 ? Array(buffer[..<n]) : []
                }
                func send(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } }
                tls.feed(receive())  // ClientHello
                _ = try? tls.handshake()
                send(tls.takeOutput())  // ServerHello … its Finished
                let finished = receive()  // the client's Finished, and its report
                guard finishes.withLock({ $0 }) else { continue }  // closed to make room: never read
                tls.feed(finished)
                _ = try? tls.handshake()
                send(tls.takeOutput())  // its session ticket; then it dies with the report
            }
        }.start()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let spool = Spool(directory: directory)
        for sequence: UInt64 in 1...2 { try spool.add(Self.snapshot(sequence), sequence: sequence) }
        let connection = CollectorConnection(host: "127.0.0.1", port: port, context: try pki.clientContext(try pki.host("web-01")),
                                             timeout: 5)
        let delivery = Delivery(spool: spool, connection: connection, now: { ManualClock().now })
        let failures = directory + "/00000000000000000001.json.failures"
        for run in 1...4 {
            let result = delivery.run()
            #expect(result.remaining == 2 && result.rejected.isEmpty, "run \(run): \(result)")
        }
        #expect(!FileManager.default.fileExists(atPath: failures), "closed before the handshake was done: never on the wire")
        finishes.withLock { $0 = true }
        _ = delivery.run()
        #expect(FileManager.default.fileExists(atPath: failures), "a collector that read it and died counts against it")
    }
}
