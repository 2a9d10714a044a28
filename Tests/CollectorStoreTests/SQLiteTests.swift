@testable import CollectorStore
import Foundation
import GRDB
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
