import AgentReporting
import CollectorClient
import CollectorStore
import CollectorTestSupport
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import Testing

/// Which collector a host starts with, and which answers move it to the next.
struct CollectorListTests {
    static func connections(_ count: Int, context: TLSContext) -> [CollectorConnection] {
        (1...count).map { CollectorConnection(host: "c\($0).example", port: 8443, context: context) }
    }

    /// A fleet spreads evenly over the collectors; a host keeps its order; a collector
    /// removed moves only the hosts whose first choice it was.
    @Test func aFleetSpreadsOverTheCollectorsAndEachHostKeepsItsOrder() throws {
        let context = try TestPKI().clientContext(nil)
        let four = Self.connections(4, context: context), three = Array(four.dropLast())
        var first: [String: Int] = [:]
        var moved = 0
        for host in (1...4_000).map({ "host-\($0).example" }) {
            let order = CollectorList.order(four, for: host).map(\.address)
            #expect(order == CollectorList.order(four.reversed(), for: host).map(\.address), "the order is the host's, not the file's")
            first[order[0], default: 0] += 1
            let without = CollectorList.order(three, for: host).map(\.address)
            if without[0] != order[0] { moved += 1 }
            #expect(without == order.filter { $0 != four[3].address })
        }
        #expect(first.count == 4 && first.values.allSatisfy { (800...1_200).contains($0) }, "\(first)")
        #expect(moved == first[four[3].address], "only the hosts that started with the removed collector move")
    }

    /// The collector that answered is kept on disk for the next run; a kept name no
    /// longer listed, or a file that is not one, starts with the host's first choice.
    @Test func theCollectorInUseIsKeptForTheNextRun() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-kept-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let kept = directory + "/collector"
        let connections = Self.connections(3, context: try TestPKI().clientContext(nil))
        #expect(CollectorList(connections, keptIn: kept).current.address == "c1.example:8443")
        try "c3.example:8443\n".write(toFile: kept, atomically: true, encoding: .utf8)
        #expect(CollectorList(connections, keptIn: kept).current.address == "c3.example:8443")
        for junk in ["c9.example:8443\n", "", "\u{0}\u{1B}[2J", String(repeating: "x", count: 100_000)] {
            try junk.write(toFile: kept, atomically: true, encoding: .utf8)
            #expect(CollectorList(connections, keptIn: kept).current.address == "c1.example:8443", "\(junk.prefix(20).debugDescription)")
        }
        #expect(CollectorList([connections[1]]).with(context: try TestPKI().clientContext(nil)).current.address == "c2.example:8443")
    }

    /// A collector that refuses the report (4xx) answered: it is not a reason to try
    /// another, and the report is set aside as with one collector.
    @Test func aRefusedReportIsNotAReasonToMoveOn() async throws {
        let pki = try TestPKI()
        let state = try enrolledState(pki, host: "web-01")
        defer { try? FileManager.default.removeItem(atPath: state.directory) }
        let refusing = try StubCollector(pki: pki) { _ in StubCollector.answer(400, [], "not a snapshot: at byte 1\n") }
        defer { refusing.stop() }
        let database = try CollectorDatabase.inMemory()
        let live = try await RunningCollector.start(pki: pki, database: database)
        defer { live.stop() }
        let reporter = FailoverTests.reporter(state, try FailoverTests.collectors(state, [Int(refusing.port), live.port]))
        let report = try await FailoverTests.report(reporter)
        #expect(report.result.rejected.count == 1 && report.result.delivered == 0 && report.result.failovers.isEmpty, "\(report.result)")
        #expect(try FailoverTests.stored(database) == .none)
        #expect(reporter.delivery.connection.port == refusing.port)
    }

    /// 503 with Retry-After, and 500: the report goes to the next at once. The one that
    /// asked to wait is left alone until then, by this run and the next, even when the
    /// other is down too; the one that answered 500 is tried again next run.
    @Test func busyOrFailingCollectorsArePassedAndOneThatAskedIsLeftAlone() async throws {
        let pki = try TestPKI()
        let state = try enrolledState(pki, host: "web-01")
        defer { try? FileManager.default.removeItem(atPath: state.directory) }
        let busy = try StubCollector(pki: pki) { _ in StubCollector.answer(503, ["Retry-After: 600"], "overloaded\n") }
        let failing = try StubCollector(pki: pki) { _ in StubCollector.answer(500, [], "database locked\n") }
        defer { busy.stop(); failing.stop() }
        let database = try CollectorDatabase.inMemory()
        let live = try await RunningCollector.start(pki: pki, database: database)
        let reporter = FailoverTests.reporter(state, try FailoverTests.collectors(state, [Int(busy.port), Int(failing.port), live.port]))

        let first = try await FailoverTests.report(reporter)
        #expect(first.result.delivered == 1 && first.result.retryAt == nil, "\(first.result)")
        #expect(first.result.failovers.map(\.reason) == ["the collector answered 503: overloaded", "the collector answered 500: database locked"])
        #expect(try FailoverTests.stored(database) == FailoverTests.Stored(reports: 1, last: 1))

        try FailoverTests.stopped(live)
        for _ in 1...2 {
            let away = try await FailoverTests.report(reporter)
            #expect(away.result.delivered == 0 && away.result.retryAt == nil, "another may be back before the pause ends: \(away.result)")
            #expect(away.result.stoppedBy?.contains("127.0.0.1:\(busy.port): paused as the collector asked: the collector answered 503") == true,
                    "\(away.result)")
        }
        #expect(busy.requests.count == 1, "left alone until Retry-After has passed")
        #expect(failing.requests.count == 3, "a 500 is tried again next run")
    }

    /// `spool/paused-until` as anyone may have left it: junk lines, absurd numbers, a
    /// pause far beyond an hour, pauses for collectors no longer listed. None holds up a
    /// collector that did not ask; the line for one that did is kept beside the others.
    @Test func aPauseFileOfJunkPausesNoCollector() async throws {
        let pki = try TestPKI()
        let state = try enrolledState(pki, host: "web-01")
        defer { try? FileManager.default.removeItem(atPath: state.directory) }
        let taking = try StubCollector(pki: pki) { _ in StubCollector.answer(200) }
        let busy = try StubCollector(pki: pki) { _ in StubCollector.answer(429, ["Retry-After: 300"]) }
        defer { taking.stop(); busy.stop() }
        let now = Int(Date().timeIntervalSince1970)
        let junk = "abc\n99999999999999999999999 127.0.0.1:\(taking.port) x\n\(now + 90_000) 127.0.0.1:\(taking.port) a day\n"
            + "\(now + 600) other.example:8443 still paused\n\u{1B}[2J\n-5\n"
        try junk.write(toFile: state.spoolDirectory + "/paused-until", atomically: true, encoding: .utf8)
        let reporter = FailoverTests.reporter(state, try FailoverTests.collectors(state, [Int(busy.port), Int(taking.port)]))
        let report = try await FailoverTests.report(reporter)
        #expect(report.result.delivered == 1 && report.result.failovers.count == 1, "\(report.result)")
        #expect(taking.sequences == [1] && busy.requests.count == 1)
        let kept = try String(contentsOfFile: state.spoolDirectory + "/paused-until", encoding: .utf8)
        #expect(kept.contains(" 127.0.0.1:\(busy.port) the collector answered 429:") && kept.contains(" other.example:8443 still paused"),
                "\(kept)")
        #expect(!kept.contains("a day") && !kept.contains("abc"), "\(kept)")
    }
}
