import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import PostgresClient
import Testing

/// What only PostgreSQL has: several collectors storing into one database at once, and a
/// database that goes away under them. The behaviour of one store alone is the shared
/// suite's (`StoreMaker.all`).
struct PostgresIngestTests {
    /// Three hosts, each report delivered four times at once (an agent failing over
    /// resends what it was not sure was stored), twice to each collector, from threads
    /// released together.
    @Test func twoCollectorsStoringTheSameHostsAtOnceStoreEachReportOnce() async throws {
        let url = try await TestPostgres.freshDatabase()
        let collectors = [try HistoryStores.open(url), try HistoryStores.open(url)]
        let hosts = ["web-01", "web-02", "db-01"], reports = 30
        let outcomes = Outcomes()
        for sequence in 1...reports {
            let start = DispatchGroup(), done = DispatchGroup()
            start.enter()
            for host in hosts {
                let request = Self.request(host, UInt64(sequence))
                for copy in 0..<4 {
                    done.enter()
                    Thread {
                        start.wait()
                        outcomes.add(host, Result {
                            try collectors[copy % 2].ingest([request], refusals: [], findings: Self.no8080, clock: ReportClock())[0].get()
                        })
                        done.leave()
                    }.start()
                }
            }
            start.leave()
            done.wait()
        }
        let connection = try PGConnection(url)
        for host in hosts {
            let results = outcomes.of(host)
            #expect(results.filter { if case .failure = $0 { true } else { false } }.isEmpty, "\(results)")
            let stored = results.filter { (try? $0.get()).map { $0 != .duplicate } ?? false }
            #expect(stored.count == reports, "each report stored once: \(host)")
            #expect(try Self.count(connection, "SELECT sum(r.reports) AS n FROM receiptRun r JOIN host h ON h.id = r.hostId WHERE h.name = $1",
                                   [host]) == reports)
            #expect(try Self.count(connection, "SELECT lastSequence AS n FROM host WHERE name = $1", [host]) == reports)
            // Port 22 throughout; 8080 in every third report: ten intervals of it, each with a finding.
            #expect(try Self.count(connection, """
                SELECT count(*) AS n FROM listenerInterval l JOIN host h ON h.id = l.hostId WHERE h.name = $1
                """, [host]) == 11)
            #expect(try Self.count(connection, """
                SELECT count(*) AS n FROM findingInterval f JOIN host h ON h.id = f.hostId WHERE h.name = $1
                """, [host]) == 10)
        }
        for table in ["listenerInterval", "findingInterval"] {
            #expect(try Self.count(connection, """
                SELECT count(*) AS n FROM \(table) a JOIN \(table) b ON a.hostId = b.hostId AND a.identity = b.identity AND a.id < b.id
                WHERE a.opened < COALESCE(b.closed, 9223372036854775807) AND b.opened < COALESCE(a.closed, 9223372036854775807)
                """) == 0, "no two intervals of one \(table) identity overlap")
        }
    }

    /// Both collectors refusing one host at once: every refusal counted.
    @Test func refusalsRecordedByTwoCollectorsAtOnceAllCount() async throws {
        let url = try await TestPostgres.freshDatabase()
        let collectors = [try HistoryStores.open(url), try HistoryStores.open(url)]
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            let refusal = HostRefusal(hostName: "web-01", reason: .outOfOrder, message: "refusal \(i)", at: Int64(1_000 + i))
            try? collectors[i % 2].record(refusals: [refusal])
        }
        let refusal = try #require(try collectors[0].currentRefusals()["web-01"])
        #expect(refusal.refusals == 40)
        #expect((1_000...1_039).contains(refusal.firstRefused))
        #expect(refusal.lastRefused == 1_039)
    }

    /// The database going away mid-stream (its connections cut, new ones refused, as while
    /// a server restarts): the calls meanwhile throw `StorageUnavailable` (the collector
    /// answers 503 and the agent keeps the report), the first after it works again on new
    /// connections, and every report acknowledged is stored.
    @Test func aDatabaseOutageMidStreamLosesNothingAcknowledged() async throws {
        let url = try await TestPostgres.freshDatabase()
        let collectors = [try HistoryStores.open(url), try HistoryStores.open(url)]
        var acknowledged: [UInt64] = []
        for sequence in UInt64(1)...10 {
            _ = try await collectors[Int(sequence % 2)].ingest(Self.request("web-01", sequence), findings: Self.no8080, clock: nil)
            acknowledged.append(sequence)
        }
        try await TestPostgres.outage(of: url) {
            // Twice on each: a connection that was cut, then one that cannot be opened.
            for _ in 0..<2 {
                await #expect(throws: StorageUnavailable.self) {
                    try await collectors[0].ingest(Self.request("web-01", 11), findings: Self.no8080, clock: nil)
                }
                #expect(throws: StorageUnavailable.self) {
                    try collectors[1].ingest([Self.request("web-01", 11), Self.request("web-01", 12)], refusals: [],
                                             findings: Self.no8080, clock: nil)
                }
            }
        }
        // The agent sends again what was not acknowledged, from 11 on.
        for sequence in UInt64(11)...20 {
            let result = try collectors[Int(sequence % 2)].ingest([Self.request("web-01", sequence)], refusals: [],
                                                                 findings: Self.no8080, clock: nil)[0].get()
            #expect(result != .duplicate)
            acknowledged.append(sequence)
        }
        let connection = try PGConnection(url)
        #expect(try Self.count(connection, "SELECT sum(reports) AS n FROM receiptRun") == acknowledged.count)
        #expect(try Self.count(connection, "SELECT lastSequence AS n FROM host WHERE name = 'web-01'") == 20)
        #expect(try Self.count(connection, "SELECT count(*) AS n FROM listenerInterval") == 7)  // 22, and 8080 six times
        #expect(try Self.count(connection, "SELECT count(*) AS n FROM findingInterval") == 6)
    }

    /// Re-evaluation on one collector while the other ingests the same hosts: never two
    /// open intervals of one finding.
    @Test func reevaluationDuringAnotherCollectorsIngestOpensNoFindingTwice() async throws {
        let url = try await TestPostgres.freshDatabase()
        let collectors = [try HistoryStores.open(url), try HistoryStores.open(url)]
        let failures = Outcomes()
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for round in 1...20 {
                do {
                    if worker == 0 {
                        _ = try collectors[0].ingest([Self.request("web-01", UInt64(round)), Self.request("web-02", UInt64(round))],
                                                     refusals: [], findings: Self.no8080, clock: nil).map { try $0.get() }
                    } else {
                        _ = try collectors[1].reevaluateFindings(at: Date(timeIntervalSince1970: 1_800_000_000 + Double(round)),
                                                                 evaluate: Self.no8080)
                    }
                } catch {
                    failures.add("\(worker)", .failure(error))
                }
            }
        }
        #expect(failures.of("0").isEmpty && failures.of("1").isEmpty, "\(failures.of("0")) \(failures.of("1"))")
        let connection = try PGConnection(url)
        #expect(try Self.count(connection, """
            SELECT count(*) AS n FROM (SELECT hostId, identity FROM findingInterval WHERE closed IS NULL
                                       GROUP BY hostId, identity HAVING count(*) > 1) twice
            """) == 0)
        #expect(try collectors[0].openFindings(host: "web-01").count <= 1)
    }

    /// Report `sequence` of `host`: port 22, and 8080 in every third. A minute apart.
    static func request(_ host: String, _ sequence: UInt64) -> IngestRequest {
        var listeners = [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]
        if sequence % 3 == 0 { listeners.append(HistoryFixtures.listener(8080, [HistoryFixtures.vmsd])) }
        let time = Timestamp.rfc3339(1_795_000_000 + Int64(sequence) * 60)
        return IngestRequest(HistoryFixtures.snapshot(sequence, at: time, host: host, listeners), host: host,
                             bodyDigest: "digest-\(sequence)", receivedAt: 1_795_000_000 + Int64(sequence) * 60)
    }

    /// A policy of one rule: nothing listens on 8080.
    static let no8080: FindingEvaluator = { subject, open in
        var update = FindingUpdate(), produced = Set<String>()
        for listener in subject.listeners where listener.port == 8080 {
            let identity = "no-8080 \(listener.netns) \(listener.address)"
            produced.insert(identity)
            if open[identity] == nil {
                update.open.append(ObservedFinding(identity: identity, rule: "no-8080", severity: "high", listener: listener,
                                                   waiver: nil, policyVersion: "v1"))
            }
        }
        for (identity, finding) in open where !produced.contains(identity) && subject.complete.covers(netns: finding.netns) {
            update.resolve.append(finding.id)
        }
        return update
    }

    static func count(_ connection: PGConnection, _ sql: String, _ parameters: [any PGParameter] = []) throws -> Int {
        guard let row = try connection.query(sql, parameters).first else { return 0 }
        let n: Int? = try row.value("n")
        return n ?? 0
    }
}

/// Results gathered from several threads.
final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [String: [Result<IngestOutcome, any Error>]] = [:]

    func add(_ key: String, _ result: Result<IngestOutcome, any Error>) {
        lock.lock()
        results[key, default: []].append(result)
        lock.unlock()
    }

    func of(_ key: String) -> [Result<IngestOutcome, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return results[key] ?? []
    }
}
