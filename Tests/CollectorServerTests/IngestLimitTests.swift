import CollectorClient
@_spi(Testing) import CollectorStore
import CollectorTestSupport
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing
@testable import CollectorServer

/// What keeps one host, or the whole fleet at once, from outrunning the collector: the
/// bounded ingest queue (503 with Retry-After) and each host's budget (429).
struct IngestLimitTests {
    @Test func aFullQueueAnswers503WithRetryAfterAndTheRestAreStored() async throws {
        let pki = try TestPKI()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-queue-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try CollectorDatabase.open(path: path)
        var settings = CollectorApplication.Settings()
        settings.maxQueuedReports = 1
        let collector = try await RunningCollector.start(pki: pki, database: database, settings: settings)
        defer { collector.stop() }
        let port = collector.port
        let hosts = (1...6).map { "web-0\($0)" }
        let clients = try hosts.map {
            CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try pki.clientContext(try pki.host($0)), timeout: 10)
        }

        // Another connection holds SQLite's write lock: the ingest thread waits on it with
        // one report, one more waits in the queue, and the rest find it full.
        let locked = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        Thread {
            try? CollectorDatabase.holdingWriteLock(path: path) {
                locked.signal()
                release.wait()
            }
        }.start()
        locked.wait()
        let responses = try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
            for (host, client) in zip(hosts, clients) {
                group.addTask { try await blocking { try client.post("/v1/reports", body: ReportTests.snapshot(host: host)) } }
            }
            try await Task.sleep(for: .seconds(1))
            release.signal()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let busy = responses.filter { $0.status == 503 }
        #expect(busy.count >= 4, "\(responses.map { "\($0.status) \($0.text)" })")
        #expect(responses.count { $0.status == 200 } == 6 - busy.count)
        for response in busy {
            #expect(response.headers["retry-after"].flatMap(Int.init).map(ReportRoutes.queueFullRetryAfter.contains) == true)
            #expect(response.text.contains("busy"), "\(response.text)")
        }
        let metrics = try await blocking { try clients[0].get("/metrics").text }
        #expect(metrics.contains("portwarden_reports_refused_total{reason=\"queue_full\"} \(busy.count)"), "\(metrics)")
        // Once the queue drains, the refused hosts are stored at their next attempt.
        let refused = zip(hosts, clients).filter { pair in
            !(try! database.hosts(now: 0, staleAfter: 1)).contains { $0.host.name == pair.0 }
        }
        for (host, client) in refused {
            #expect(try await blocking { try client.post("/v1/reports", body: ReportTests.snapshot(host: host)) }.status == 200)
        }
        #expect(try await database.hosts(now: 0, staleAfter: 1).count == 6)
    }

    /// A host posting garbage in a loop: each refusal counted, one row written a minute.
    @Test func aHostPostingGarbageIsCountedEveryTimeAndWrittenOnce() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let web = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: try pki.clientContext(try pki.host("web-01")),
                                      timeout: 10)
        for _ in 0..<20 {
            #expect(try await blocking { try web.post("/v1/reports", body: Array(#"{"schema": 1, "host": 7}"#.utf8)) }.status == 400)
        }
        let metrics = try await blocking { try web.get("/metrics").text }
        #expect(metrics.contains("portwarden_reports_refused_total{reason=\"bad_request\"} 20"), "\(metrics)")
        #expect(metrics.contains("portwarden_host_refusing{host=\"web-01\",reason=\"bad_request\"} 1"), "\(metrics)")
        #expect(try database.currentRefusals()["web-01"]?.refusals == 1, "the rest wait for the next minute's write")

        // Stored: no longer refusing; refused again: written at once.
        #expect(try await blocking { try web.post("/v1/reports", body: ReportTests.snapshot(host: "web-01")) }.status == 200)
        #expect(try database.currentRefusals().isEmpty)
        #expect(try await blocking { try web.post("/v1/reports", body: [0x7B]) }.status == 400)
        for _ in 0..<50 where try database.currentRefusals().isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try database.currentRefusals()["web-01"]?.reason == .badRequest)
    }

    /// An agent draining a full spool (1,000 reports) back to back is never throttled
    /// by the defaults; a host past them is, for as long as its budget takes to refill.
    @Test func theDefaultBudgetLetsAFullSpoolDrain() {
        let budget = HostBudget(.init())
        let start: UInt64 = 1_000_000_000
        for i in 0..<HostBudget.Limits.defaultReportsPerMinute {
            #expect(budget.admit("web-01", at: start) == nil, "report \(i)")
            // 12,000 listeners changed and 24 MB of ordinary 20 KB reports over the drain.
            budget.charge("web-01", bytes: 20_000, changed: 10, at: start)
        }
        #expect(budget.admit("web-01", at: start) == 1, "past 1,200 a minute: the next token in 1/20 s")
        #expect(budget.admit("db-01", at: start) == nil, "another host is untouched")
        #expect(budget.admit("web-01", at: start + 1_000_000_000) == nil, "20 a second refill")
    }

    @Test func changedListenersPastTheHourlyBudgetWaitForItToRefill() {
        let budget = HostBudget(.init(reportsPerMinute: 1_000, changedListenersPerHour: 3_600))
        #expect(budget.admit("web-01", at: 0) == nil)
        budget.charge("web-01", changed: 3_599, at: 0)
        #expect(budget.admit("web-01", at: 0) == nil, "one listener of budget left")
        budget.charge("web-01", changed: 2, at: 0)  // a report may take more than is left: 1 in debt
        #expect(budget.admit("web-01", at: 0) == 2, "a listener a second: 2 s until one is left")
        #expect(budget.admit("web-01", at: 2_000_000_001) == nil)
        #expect(budget.admit("db-01", at: 0) == nil)
    }

    /// Bytes decoded are a host's budget too: a host within its report count but sending
    /// large reports waits, and another host does not.
    @Test func reportBytesPastTheMinutesBudgetWaitForItToRefill() {
        let budget = HostBudget(.init(reportsPerMinute: 1_000, reportBytesPerMinute: 6 << 20))
        for _ in 0..<6 {
            #expect(budget.admit("web-01", at: 0) == nil)
            budget.charge("web-01", bytes: 1 << 20, at: 0)  // charged as read, refused or not
        }
        #expect(budget.admit("web-01", at: 0) == 1, "a tenth of a MiB a second: the first byte back within a second")
        #expect(budget.admit("db-01", at: 0) == nil)
        #expect(budget.admit("web-01", at: 1_000_000_000) == nil)
    }
}
