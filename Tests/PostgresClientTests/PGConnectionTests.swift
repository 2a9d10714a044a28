import Foundation
import PortwardenTestSupport
import PostgresClient
import Testing

/// libpq through PostgresClient against a real server (the tests' throwaway cluster).
@Suite struct PGConnectionTests {
    let url: String
    init() async throws { url = try await TestPostgres.freshDatabase() }

    @Test func hostileTextIsBoundNeverRead() throws {
        let connection = try PGConnection(url)
        try connection.execute("CREATE TABLE t (id BIGINT, v TEXT)")
        let values = ["'; DROP TABLE t; --", "\\", "$1", "\"quoted\"", "é\u{202E}🛡", "", String(repeating: "x", count: 1 << 20),
                      "a\u{1}b\r\n\t"]
        for (i, value) in values.enumerated() { try connection.execute("INSERT INTO t VALUES ($1, $2)", [Int64(i), value]) }
        let back: [String] = try connection.query("SELECT v FROM t ORDER BY id").map { try $0.value("v") }
        #expect(back == values)
    }

    @Test func aNulCharacterIsRefusedNotCutShort() throws {
        let connection = try PGConnection(url)
        #expect(throws: PGError.self) { try connection.execute("SELECT $1::text", ["a\u{0}b"]) }
        #expect(try connection.query("SELECT 1 AS one").first?.value("one") == Int64(1), "the connection still works")
    }

    @Test func valuesRoundTripAtTheirExtremes() throws {
        let connection = try PGConnection(url)
        let bytes = Data((0...255).map { UInt8($0) })
        let row = try #require(try connection.query(
            "SELECT $1::bigint AS low, $2::bigint AS high, $3::boolean AS yes, $4::bytea AS bytes, $5::bigint AS none, $6::text AS blank",
            [Int64.min, Int64.max, true, bytes, Int64?.none, ""]).first)
        #expect(try row.value("low") == Int64.min)
        #expect(try row.value("high") == Int64.max)
        #expect(try row.value("yes") == true)
        #expect(try row.value("bytes") == bytes)
        #expect(try row.value("none") == Int64?.none)
        #expect(try row.value("blank") == "")
        #expect(throws: PGRowError.self) { let _: Int64 = try row.value("none") }
        #expect(throws: PGRowError.self) { let _: Int64 = try row.value("nosuchcolumn") }
    }

    @Test func aTransactionThatThrowsLeavesNothing() throws {
        let connection = try PGConnection(url)
        try connection.execute("CREATE TABLE t (v BIGINT UNIQUE)")
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try connection.transaction { try connection.execute("INSERT INTO t VALUES (1)"); throw Stop() }
        }
        try connection.transaction {
            try connection.execute("INSERT INTO t VALUES (2)")
            // A savepoint undone alone: the unique violation does not end the transaction.
            let error = #expect(throws: PGError.self) {
                try connection.savepoint { try connection.execute("INSERT INTO t VALUES (2)") }
            }
            #expect(error?.isUniqueViolation == true)
            #expect(error?.isTransient == false)
            try connection.execute("INSERT INTO t VALUES (3)")
        }
        let values: [Int64] = try connection.query("SELECT v FROM t ORDER BY v").map { try $0.value("v") }
        #expect(values == [2, 3])
    }

    @Test func preparedStatementsRunAgainWithNewValues() throws {
        let connection = try PGConnection(url)
        for i in Int64(0)..<5 {
            #expect(try connection.executePrepared("SELECT $1::bigint * 2 AS twice", [i]).first?.value("twice") == i * 2)
        }
    }

    @Test func aCursorWalksEveryRowInBatches() throws {
        let connection = try PGConnection(url)
        var seen: Int64 = 0, count = 0
        try connection.transaction {
            try connection.forEachRow("SELECT g FROM generate_series(1, 2500) AS g", batch: 1000) { row in
                seen += try row.value("g")
                count += 1
            }
        }
        #expect(count == 2500)
        #expect(seen == 2500 * 2501 / 2)
    }

    @Test func aNotificationReachesAnotherConnection() throws {
        let listener = try PGConnection(url), sender = try PGConnection(url)
        try listener.listen("pw_test")
        try sender.notify("pw_test", "serial-1")
        var received: [PGNotification] = []
        for _ in 0..<20 where received.isEmpty { received = try listener.notifications(waitingUpTo: 0.25) }
        #expect(received.map(\.payload) == ["serial-1"])
    }

    @Test func aServerThatCannotBeReachedSaysSoWithoutThePassword() throws {
        let port = try unusedPort()
        let error = #expect(throws: PGError.self) {
            _ = try PGConnection("postgresql://portwarden:s3cret-pw@127.0.0.1:\(port)/x?connect_timeout=2")
        }
        #expect(error?.isTransient == true)
        #expect(error?.description.contains("s3cret-pw") == false)
    }

    @Test func thePoolReconnectsAfterTheServerRestarts() async throws {
        let cluster = try await TestPostgres.privateCluster()
        defer { cluster.remove() }
        let pool = PGPool(conninfo: try await cluster.freshDatabase(), size: 2)
        #expect(try pool.read { try $0.query("SELECT 1 AS one").first?.value("one") } == Int64(1))
        try await cluster.restart()
        // The pooled connection died with the server: the first use says so (transient)…
        let error = #expect(throws: PGError.self) { try pool.read { try $0.query("SELECT 1 AS one") } }
        #expect(error?.isTransient == true)
        // …and the next opens a new one.
        #expect(try pool.read { try $0.query("SELECT 1 AS one").first?.value("one") } == Int64(1))
        try await cluster.stop()
        #expect(throws: PGError.self) { try pool.write { try $0.execute("SELECT 1") } }
        try await cluster.start()
        #expect(try pool.write { try $0.query("SELECT 2 AS two").first?.value("two") } == Int64(2))
    }
}
