@testable import CollectorStore
import Foundation
import GRDB
import PortwardenModel
import PortwardenTestSupport
import Testing

/// What is SQLite's own: the file and its journal mode, and migrations of the schemas
/// older releases wrote (the behaviour behind `HistoryStore` is tested in the other files).
struct SQLiteTests {
    @Test func anOnDiskDatabaseMigratesFromEmptyInWALMode() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-store-\(getpid()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let db = try CollectorDatabase.open(path: path)
        let mode = try db.reader.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        #expect(try db.appliedMigrations() == CollectorDatabase.migrations, "every migration applied from empty")
        #expect(CollectorDatabase.migrations.first == "v1")
        #expect(try db.integrityProblems() == [])
    }

    /// v7 on a v6 database: certificates learn their key from the request that collected
    /// them, and a secret retired in the second another was made was replaced by it.
    @Test func v7FillsWhatOlderRowsTell() throws {
        let queue = try DatabaseQueue()
        try CollectorDatabase.migrator.migrate(queue, upTo: "v6")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO certificate (serial, hostName, fingerprint, notAfter, issuedAt) VALUES ('01', 'a-1', 'f', 9, 1), ('02', 'b-1', 'f', 9, 1);
                INSERT INTO enrollmentRequest (hostName, keyFingerprint, requestedAt, approvedAt, issuedSerial, expiresAt)
                    VALUES ('a-1', 'key-a', 1, 1, '01', 2);
                INSERT INTO enrollmentCredential (kind, digest, createdAt, createdBy, revokedAt) VALUES
                    ('secret', 'one', 1, 't', 5), ('secret', 'two', 5, 't', 8), ('secret', 'three', 9, 't', NULL);
                """)
        }
        let database = try CollectorDatabase(queue)
        let keys = try database.reader.read { try [String?: String].init(uniqueKeysWithValues: Row.fetchAll($0, sql:
            "SELECT serial, keyFingerprint FROM certificate").map { ($0["keyFingerprint"], $0["serial"]) }) }
        #expect(keys == ["key-a": "01", nil: "02"])
        #expect(try database.credential(digest: "one")?.refusal(at: 10) == .replacedSecret(at: 5))
        #expect(try database.credential(digest: "two")?.refusal(at: 10) == .disabledSecret(at: 8))
    }
}

/// v10-state while a collector of an earlier release shares the database (PostgreSQL's
/// rolling upgrade; here on SQLite, with that release's own UPDATE): what it stores
/// without writing the state digest makes the digest stale, and it is not trusted.
@Test func aReportStoredByAnEarlierReleaseMakesTheKeptStateStale() async throws {
    let db = try CollectorDatabase.inMemory()
    let t0: Int64 = 1_795_600_800
    let state = String(repeating: "5a", count: 32)
    let snapshot = HistoryFixtures.snapshot(1, at: Timestamp.rfc3339(t0), [HistoryFixtures.listener(22, [HistoryFixtures.sshd])])
    _ = try await db.ingest(IngestRequest(snapshot, host: "web-01", bodyDigest: "a", receivedAt: t0, stateDigest: state), findings: nil,
                            clock: nil)
    // As v9-renewal's ingest writes a host: every column it knows, the digest left as it was.
    try await db.writer.write { db in
        try db.execute(sql: "UPDATE host SET lastSeen = ?, lastReceived = ?, lastSequence = 2 WHERE name = 'web-01'", arguments: [t0 + 60, t0 + 60])
    }
    let report = UnchangedReport(hostname: "web-01", bootID: "boot-1", sequence: 3, collectedAt: Timestamp.rfc3339(t0 + 120),
                                 stateDigest: state, warnings: [])
    #expect(try await db.ingest(IngestRequest(unchanged: report, host: "web-01", bodyDigest: "b", receivedAt: t0 + 120), findings: nil,
                                clock: nil) == .stateUnknown)
}
