import CollectorStore
import Foundation
import PortwardenTestSupport
import PostgresClient
import Testing

/// The periodic work on one collector at a time (`holdsUpkeep`): two collectors on one
/// database, asking from several threads at once, never both hold it; it passes when the
/// holder stops, when its session dies, and after a restart of the server.
struct PostgresUpkeepTests {
    @Test func sqliteAlwaysHoldsTheUpkeep() throws {
        let store = try HistoryStores.inMemory()
        #expect(store.holdsUpkeep() && store.holdsUpkeep())
    }

    @Test func oneOfTwoCollectorsHoldsItAndItPassesWhenTheHolderGoes() async throws {
        let url = try await TestPostgres.freshDatabase()
        let a = try HistoryStores.open(url), b = try HistoryStores.open(url)
        #expect(a.holdsUpkeep(), "the first to ask takes it")
        // Both ask from several threads at once: a keeps it, b never gets it.
        let answers = Answers()
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            for _ in 0..<20 { answers.add(i % 2 == 0 ? "a" : "b", (i % 2 == 0 ? a : b).holdsUpkeep()) }
        }
        #expect(answers.of("a") == Array(repeating: true, count: 160))
        #expect(answers.of("b") == Array(repeating: false, count: 160))

        try a.settle()  // serve stopping
        try waitUntil { b.holdsUpkeep() }  // a stopped: b takes it at its next look, once the server ended a's session
        #expect(!a.holdsUpkeep())

        // b's process dies: PostgreSQL ends its session, and a takes it over.
        let admin = try PGConnection(url)
        let killed = try admin.query("""
            SELECT pg_terminate_backend(pid) AS gone FROM pg_stat_activity
            WHERE application_name = 'portwarden upkeep' AND datname = current_database()
              AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
                          AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
            """)
        #expect(killed.count == 1)
        try waitUntil { a.holdsUpkeep() }
        #expect(!b.holdsUpkeep(), "b sees its session ended and does not take it back")
    }

    @Test func aRestartOfTheServerPassesItToWhoeverAsksFirst() async throws {
        let cluster = try await TestPostgres.privateCluster()
        let url = try await cluster.freshDatabase()
        let a = try HistoryStores.open(url), b = try HistoryStores.open(url)
        #expect(a.holdsUpkeep() && !b.holdsUpkeep())
        try await cluster.stop()
        #expect(!a.holdsUpkeep() && !b.holdsUpkeep(), "no server: nobody holds it, nothing throws")
        try await cluster.start()
        #expect(b.holdsUpkeep(), "the session a held it in ended with the server")
        #expect(!a.holdsUpkeep())
        try await cluster.restart()
        #expect(a.holdsUpkeep())
        #expect(!b.holdsUpkeep())
    }

    /// Polls `condition` for up to five seconds: a terminated backend lets its locks go
    /// a moment after the call returns.
    func waitUntil(_ condition: () -> Bool) throws {
        for _ in 0..<50 {
            if condition() { return }
            usleep(100_000)
        }
        Issue.record("not within five seconds")
    }
}

/// Answers collected from several threads.
final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [String: [Bool]] = [:]
    func add(_ who: String, _ answer: Bool) { lock.withLock { answers[who, default: []].append(answer) } }
    func of(_ who: String) -> [Bool] { lock.withLock { answers[who] ?? [] } }
}
