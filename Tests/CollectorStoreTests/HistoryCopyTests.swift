import CollectorStore
import Foundation
import GRDB
import PortwardenModel
import PortwardenTestSupport
import PostgresClient
import Testing

/// `db copy`: a SQLite history made through the interface moves into PostgreSQL with every
/// row of every table equal (ids too), identity sequences continuing after the copied ids;
/// a target holding a history is refused unless replacing; schema checks say which schema.
struct HistoryCopyTests {
    static let tables = ["host", "receiptRun", "listenerInterval", "findingInterval", "hostLabels", "certificate",
                         "enrollmentRequest", "enrollmentCredential", "hostTag", "hostRefusal", "audit",
                         "policyVersion", "policyFile", "policyInForce"]
    static let now: Int64 = 1_800_000_000

    /// A SQLite file holding a row in every table, written through `HistoryStore`.
    func sqliteHistory() throws -> String {
        let path = Scratch.path("copy-\(UUID().uuidString).sqlite")
        let db = try HistoryStores.open(path)
        try db.rotateSecret(digest: "d", at: Self.now - 500, by: "test")
        let secret = try #require(try db.credential(digest: "d")?.id)
        try db.recordSigned(by: "test", at: Self.now - 400) {
            IssuedCertificate(serial: "0A", hostName: "web-01", fingerprint: "c0", notAfter: Self.now + 86_400,
                              issuedAt: Self.now - 400, keyFingerprint: "k0")
        }
        _ = try db.enroll(EnrollmentAttempt(host: "web-01", keyFingerprint: "k1", credentialID: secret, address: "192.0.2.9",
                                            policyReasons: [], requestTTL: 86_400, now: Self.now - 300)) {
            IssuedCertificate(serial: "0B", hostName: "web-01", fingerprint: "c1", notAfter: Self.now + 86_400, issuedAt: Self.now)
        }
        let version = PolicyVersion(digest: "aaaa", files: [.init(path: "legacy-ports.yaml", content: Array("rules: []\n\u{0}\u{ff}".utf8))])
        try db.recordPolicy(version, at: Self.now - 200)
        for (sequence, time) in [(1, "2027-01-15T08:00:00Z"), (2, "2027-01-15T08:05:00Z")] {
            let listeners = sequence == 1 ? [HistoryFixtures.listener(22, [HistoryFixtures.sshd]),
                                             HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]
                : [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]
            _ = try db.ingest(HistoryFixtures.snapshot(UInt64(sequence), at: time, labels: ["role": "web", "o'k": "ü"], listeners),
                              host: "web-01", bodyDigest: "b\(sequence)", receivedAt: Self.now - 100 + Int64(sequence))
        }
        let listener = HistoryFixtures.listener(557, [HistoryFixtures.vmsd])
        try db.importHistory([HostHistory(
            host: HostRecord(name: "vms-01", machineID: "m", bootID: "b", kernel: nil, os: nil, firstSeen: 10, lastSeen: 20,
                             lastReceived: 21, lastSequence: 5, complete: true, labels: nil),
            listeners: [ListenerInterval(listener, opened: 10, closed: nil)],
            runs: [ReceiptRun(bootID: "b", firstSequence: 1, lastSequence: 5, lastBodyDigest: "d", firstCollected: 10,
                              lastCollected: 20, lastReceived: 21, reports: 5)],
            findings: [FindingInterval(ObservedFinding(identity: "openvms 557", rule: "openvms", severity: "high", listener: listener,
                                                       waiver: nil, policyVersion: "aaaa"), opened: 10, closed: nil)])])
        try db.tag(host: "web-01", "pci", at: Self.now - 50, by: "ops")
        try db.record(refusals: [HostRefusal(hostName: "db-02", reason: .badRequest, message: "bad \"quoted\"\ttext", at: Self.now)])
        try db.audit(AuditEntry(at: Self.now, action: .caInitialized, actor: "root", detail: "x"))
        try db.settle()
        return path
    }

    /// Every row of `table` in PostgreSQL's text form, sorted: SQLite's values are said
    /// the way PostgreSQL prints its column's type (booleans t/f, bytea \x…).
    func sqliteRows(_ path: String, _ table: String, types: [String: String], columns: [String]) throws -> [String] {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            let derived = HistoryCopy.derived[table.lowercased()] ?? [:]
            let selected = columns.map { name in derived[name].map { "\($0) AS \(name)" } ?? name }
            return try Row.fetchAll(db, sql: "SELECT \(selected.joined(separator: ", ")) FROM \(table)").map { row in
                columns.indices.map { index -> String in
                    let value: DatabaseValue = row[index]
                    switch (value.storage, types[columns[index]]) {
                    case (.null, _): return "NULL"
                    case (.int64(let n), "boolean"): return n != 0 ? "t" : "f"
                    case (.int64(let n), _): return String(n)
                    case (.string(let s), "bytea"): return "\\x" + Data(s.utf8).map { String(format: "%02x", $0) }.joined()
                    case (.blob(let d), "bytea"): return "\\x" + d.map { String(format: "%02x", $0) }.joined()
                    case (.string(let s), _): return s
                    default: return "\(value)"
                    }
                }.joined(separator: "|")
            }.sorted()
        }
    }

    func postgresRows(_ connection: PGConnection, _ table: String, columns: [String]) throws -> [String] {
        try connection.query("SELECT \(columns.joined(separator: ", ")) FROM \(table)").map { row in
            columns.map { row[$0] ?? "NULL" }.joined(separator: "|")
        }.sorted()
    }

    @Test func everyTableArrivesRowForRowWithItsIds() async throws {
        let path = try sqliteHistory()
        let url = try await TestPostgres.freshDatabase()
        let counts = try HistoryCopy.copy(from: path, to: url, replacing: false)
        #expect(counts.map(\.table) == Self.tables)
        let connection = try PGConnection(url)
        for table in Self.tables {
            let described = try connection.query("""
                SELECT column_name, data_type FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position
                """, [table.lowercased()])
            let columns: [String] = try described.map { try $0.value("column_name") }
            let types = Dictionary(uniqueKeysWithValues: try described.map { (try $0.value("column_name") as String,
                                                                              try $0.value("data_type") as String) })
            let source = try sqliteRows(path, table, types: types, columns: columns)
            #expect(!source.isEmpty, "the fixture writes a row into \(table)")
            #expect(try postgresRows(connection, table, columns: columns) == source, "\(table)")
            let count = counts.first { $0.table == table }
            #expect(count?.source == source.count && count?.target == source.count, "\(table): \(String(describing: count))")
        }
        // New rows continue after the copied ids rather than colliding with them.
        let highest: Int64 = try #require(try connection.query("SELECT max(id) AS m FROM audit").first?.value("m"))
        let next: Int64 = try #require(try connection.query("""
            INSERT INTO audit (at, action, actor, detail) VALUES (1, 'x', 'y', 'z') RETURNING id
            """).first?.value("id"))
        #expect(next == highest + 1)
    }

    @Test func aTargetHoldingAHistoryIsRefusedUnlessReplaced() async throws {
        let path = try sqliteHistory()
        let url = try await TestPostgres.freshDatabase()
        _ = try HistoryCopy.copy(from: path, to: url, replacing: false)
        let connection = try PGConnection(url)
        try connection.execute("INSERT INTO audit (at, action, actor, detail) VALUES (1, 'marker', 'y', 'z')")
        #expect {
            try HistoryCopy.copy(from: path, to: url, replacing: false)
        } throws: { error in
            "\(error)".contains("already holds a history") && "\(error)".contains("--force")
        }
        let marker: Int64? = try connection.query("SELECT count(*) AS n FROM audit WHERE action = 'marker'").first?.value("n")
        #expect(marker == 1, "refused: nothing touched")
        let again = try HistoryCopy.copy(from: path, to: url, replacing: true)
        #expect(again.allSatisfy { $0.source == $0.target })
        let gone: Int64? = try connection.query("SELECT count(*) AS n FROM audit WHERE action = 'marker'").first?.value("n")
        #expect(gone == 0, "replaced: the target holds the copied history alone")
    }

    @Test func aSchemaFromAnotherReleaseIsNamed() async throws {
        let url = try await TestPostgres.freshDatabase()
        #expect {
            try HistoryStores.existing(url)
        } throws: { error in
            "\(error)".contains("db migrate")
        }
        _ = try HistoryStores.open(url)
        let connection = try PGConnection(url)
        try connection.execute("INSERT INTO portwarden_migrations (identifier, appliedAt) VALUES ('pg-99', 1)")
        for open in [{ _ = try HistoryStores.existing(url) }, { _ = try HistoryStores.open(url) }] {
            #expect {
                try open()
            } throws: { error in
                error is DatabaseUnusable && "\(error)".contains("pg-99") && "\(error)".contains("newer")
            }
        }
    }

    @Test func aPasswordInTheStringIsNeverShown() async throws {
        let url = try await TestPostgres.freshDatabase().replacingOccurrences(of: "postgres@", with: "postgres:s3cr%20t@")
        #expect {
            try HistoryStores.existing(url)
        } throws: { error in
            !"\(error)".contains("s3cr") && "\(error)".contains("***")
        }
        let unreachable = "host=127.0.0.1 port=1 dbname=x password='s3cr et' connect_timeout=2"
        #expect {
            try HistoryStores.open(unreachable)
        } throws: { error in
            !"\(error)".contains("s3cr") && "\(error)".contains("password=***")
        }
    }
}
