import AgentReporting
import CollectorClient
import CollectorServer
import CollectorStore
import CollectorTestSupport
import Foundation
import Glibc
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// An agent with several collectors, against real ones (`serve`'s application on
/// loopback ports, one CA): it keeps to the one that answers, moves on at once for the
/// same report when it does not, and spools as ever when none does.
@Suite(.serialized)
struct FailoverTests {
    /// The collectors on `ports` of 127.0.0.1, in that order (the test says which is
    /// first), each connection giving up after `timeout` seconds.
    static func collectors(_ state: AgentState, _ ports: [Int], timeout: Int = 5) throws -> CollectorList {
        let context = try state.clientContext()
        return CollectorList(ports.map {
            CollectorConnection(host: "127.0.0.1", port: UInt16($0), context: context, timeout: timeout, sessions: SessionCache())
        }, keptIn: state.collectorPath)
    }

    static func reporter(_ state: AgentState, _ collectors: CollectorList) -> Reporter {
        Reporter(state: state, delivery: Delivery(spool: Spool(directory: state.spoolDirectory), collectors: collectors))
    }

    /// One report, timed.
    static func report(_ reporter: Reporter) async throws -> (result: Delivery.Result, seconds: Double) {
        let started = Date()
        let result = try await blocking { try reporter.report(SpoolTests.scanned("web-01")) }
        return (result, Date().timeIntervalSince(started))
    }

    /// How many reports `database` stored for web-01, and the last one's sequence.
    static func stored(_ database: CollectorDatabase) throws -> Stored {
        let runs = try database.receiptRuns(host: "web-01")
        return Stored(reports: runs.map(\.reports).reduce(0, +), last: runs.compactMap(\.lastSequence).max())
    }

    struct Stored: Equatable {
        var reports: Int64
        var last: Int64?
        static let none = Stored(reports: 0, last: nil)
    }

    /// Stopping is asynchronous: wait until the port refuses connections.
    static func stopped(_ collector: RunningCollector) throws {
        collector.stop()
        for _ in 0..<400 {  // 20 s: a loaded machine (CI's whole suite) stops slowly
            guard let fd = try? TCP.connect(host: "127.0.0.1", port: UInt16(collector.port), timeout: 1) else { return }
            close(fd)
            usleep(50_000)
        }
        Issue.record("collector on \(collector.port) still accepts connections")
    }

    /// The first choice stopped: the report reaches the second at once, not an interval
    /// later. The first back: the agent stays with the second (and so does the next run)
    /// until the second fails, then goes back to the first at once.
    @Test func reportsReachTheNextCollectorAtOnceAndStayThere() async throws {
        let pki = try TestPKI()
        let state = try enrolledState(pki, host: "web-01")
        defer { try? FileManager.default.removeItem(atPath: state.directory) }
        let (databaseA, databaseB) = (try CollectorDatabase.inMemory(), try CollectorDatabase.inMemory())
        var a = try await RunningCollector.start(pki: pki, database: databaseA)
        var b = try await RunningCollector.start(pki: pki, database: databaseB)
        defer { a.stop(); b.stop() }
        let (portA, portB) = (a.port, b.port)
        let reporter = Self.reporter(state, try Self.collectors(state, [portA, portB]))

        let first = try await Self.report(reporter)
        #expect(first.result.delivered == 1 && first.result.failovers.isEmpty, "\(first.result)")
        #expect(try Self.stored(databaseA) == Stored(reports: 1, last: 1) && Self.stored(databaseB) == .none)

        try Self.stopped(a)
        let moved = try await Self.report(reporter)
        #expect(moved.result.delivered == 1 && moved.result.remaining == 0 && moved.result.stoppedBy == nil, "\(moved.result)")
        #expect(moved.result.failovers.map(\.from) == ["127.0.0.1:\(portA)"] && moved.result.failovers.map(\.to) == ["127.0.0.1:\(portB)"])
        #expect(moved.result.failovers.first?.reason.contains("refused") == true, "\(moved.result.failovers)")
        #expect(moved.seconds < 5, "moved on at once: \(moved.seconds) s")
        #expect(try Self.stored(databaseB) == Stored(reports: 1, last: 2))
        #expect(reporter.delivery.connection.port == UInt16(portB))

        a = try await RunningCollector.start(pki: pki, database: databaseA, port: portA)
        let stayed = try await Self.report(reporter)
        #expect(stayed.result.delivered == 1 && stayed.result.failovers.isEmpty, "\(stayed.result)")
        #expect(try Self.stored(databaseA) == Stored(reports: 1, last: 1), "stayed with the second")
        #expect(try Self.stored(databaseB) == Stored(reports: 2, last: 3))
        // As `run --once` from cron starts: with the one that answered last.
        #expect(try Self.collectors(state, [portA, portB]).current.port == UInt16(portB))

        try Self.stopped(b)
        let back = try await Self.report(reporter)
        #expect(back.result.delivered == 1 && back.result.failovers.map(\.from) == ["127.0.0.1:\(portB)"], "\(back.result)")
        #expect(try Self.stored(databaseA) == Stored(reports: 2, last: 4))
        b = try await RunningCollector.start(pki: pki, database: databaseB, port: portB)
    }

    /// A collector that accepts the connection and never answers — a listening socket
    /// nobody reads, and one that reads the report and never replies: the timeout moves
    /// the report on, and it is delivered once.
    @Test func aCollectorThatNeverAnswersIsLeftAfterTheTimeout() async throws {
        let pki = try TestPKI()
        let state = try enrolledState(pki, host: "web-01")
        defer { try? FileManager.default.removeItem(atPath: state.directory) }
        let silent = try #require(loopbackSocket())
        defer { close(silent.fd) }
        #expect(listen(silent.fd, 16) == 0)
        let mute = try StubCollector(pki: pki) { _ in
            sleep(4)  // past the agent's timeout
            return StubCollector.answer(500)
        }
        defer { mute.stop() }
        let database = try CollectorDatabase.inMemory()
        let live = try await RunningCollector.start(pki: pki, database: database)
        defer { live.stop() }

        let reporter = Self.reporter(state, try Self.collectors(state, [Int(silent.port), Int(mute.port), live.port], timeout: 2))
        let report = try await Self.report(reporter)
        #expect(report.result.delivered == 1 && report.result.remaining == 0, "\(report.result)")
        #expect(report.result.failovers.map(\.to) == ["127.0.0.1:\(mute.port)", "127.0.0.1:\(live.port)"], "\(report.result.failovers)")
        #expect(report.seconds >= 4 && report.seconds < 15, "two timeouts of 2 s, not an interval: \(report.seconds) s")
        #expect(mute.sequences == [1], "the report reached it, and got no answer")
        #expect(try Self.stored(database) == Stored(reports: 1, last: 1))
    }

    /// Every collector down: each report is spooled, as with one, and each run tries all
    /// of them; when one is back every snapshot arrives, once, in order.
    @Test func whenAllAreDownNothingIsLost() async throws {
        let pki = try TestPKI()
        let state = try enrolledState(pki, host: "web-01")
        defer { try? FileManager.default.removeItem(atPath: state.directory) }
        let (portA, portB) = (try unusedPort(), try unusedPort())
        let reporter = Self.reporter(state, try Self.collectors(state, [portA, portB]))
        for run in 1...3 {
            let report = try await Self.report(reporter)
            #expect(report.result.delivered == 0 && report.result.remaining == run && report.result.rejected.isEmpty, "\(report.result)")
            let stopped = try #require(report.result.stoppedBy)
            #expect(stopped.contains("127.0.0.1:\(portA): ") && stopped.contains("127.0.0.1:\(portB): "), "\(stopped)")
            #expect(report.result.failovers.map(\.to) == ["127.0.0.1:\(portB)", nil])
        }
        #expect(!FileManager.default.fileExists(atPath: state.spoolDirectory + "/00000000000000000001.json.failures"),
                "unreachable collectors count against no snapshot")

        let database = try CollectorDatabase.inMemory()
        let b = try await RunningCollector.start(pki: pki, database: database, port: portB)
        defer { b.stop() }
        let back = try await Self.report(reporter)
        #expect(back.result.delivered == 4 && back.result.remaining == 0, "\(back.result)")
        #expect(try Self.stored(database) == Stored(reports: 4, last: 4))
    }

    /// A collector whose certificate is from another CA (an impostor, or a wrong CA
    /// file): the report goes to the next, and the failover says it did not verify.
    @Test func anUntrustedCollectorIsPassedAndSaidToBe() async throws {
        let pki = try TestPKI(), other = try TestPKI(caName: "someone else's CA")
        let state = try enrolledState(pki, host: "web-01")
        defer { try? FileManager.default.removeItem(atPath: state.directory) }
        let (impostorDatabase, database) = (try CollectorDatabase.inMemory(), try CollectorDatabase.inMemory())
        let impostor = try await RunningCollector.start(pki: other, database: impostorDatabase)
        let live = try await RunningCollector.start(pki: pki, database: database)
        defer { impostor.stop(); live.stop() }
        let reporter = Self.reporter(state, try Self.collectors(state, [impostor.port, live.port]))
        let report = try await Self.report(reporter)
        #expect(report.result.delivered == 1, "\(report.result)")
        let failover = try #require(report.result.failovers.first)
        #expect(failover.untrusted && failover.reason.contains("does not trust the collector's certificate"), "\(failover)")
        #expect(try Self.stored(database) == Stored(reports: 1, last: 1) && Self.stored(impostorDatabase) == .none)
    }
}
