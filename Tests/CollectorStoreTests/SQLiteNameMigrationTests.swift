@testable import CollectorStore
import Foundation
import GRDB
import Testing

/// v6 on a database an older release wrote, with names as they came: they are put in
/// normal form where that merges nothing; look-alikes and impossible names are left for
/// an operator, with the audit saying what was done.
struct NameMigrationTests {
    func legacyDatabase() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try CollectorDatabase.migrator.migrate(queue, upTo: "v4")
        try queue.write { db in
            func host(_ name: String) throws {
                try db.execute(sql: """
                    INSERT INTO host (name, firstSeen, lastSeen, lastReceived, complete) VALUES (?, 1, 1, 1, 1)
                    """, arguments: [name])
            }
            func certificate(_ serial: String, _ name: String, issued: Int64 = 1, revoked: Int64? = nil) throws {
                try db.execute(sql: """
                    INSERT INTO certificate (serial, hostName, fingerprint, notAfter, issuedAt, revokedAt) VALUES (?, ?, 'f', 9999999999, ?, ?)
                    """, arguments: [serial, name, issued, revoked])
            }
            try host("WEB-01"); try certificate("01", "WEB-01")                         // alone: renamed
            try host("host-x"); try certificate("02", "host-x")                         // look-alikes
            try host("HOST-X"); try certificate("03", "HOST-X")
            try host("localhost"); try certificate("04", "localhost")                   // no normal form
            try certificate("05", "db-01", issued: 1); try certificate("06", "db-01", issued: 2)  // signed twice
            try certificate("07", "Old-1.", revoked: 5)                                 // revoked, never reported
            try db.execute(sql: "INSERT INTO hostTag VALUES ('Web-01.', 'OpenVMS', 'openvms', 1, 1)")
            try db.execute(sql: "INSERT INTO enrollmentRequest (hostName, keyFingerprint, requestedAt, approvedAt) VALUES ('db-01', 'ab', 9999999990, 9999999991)")
        }
        return queue
    }

    @Test func namesAreNormalisedWhereNothingCollidesAndLookAlikesAreLeftForAnOperator() throws {
        let database = try CollectorDatabase(try legacyDatabase())
        let (hosts, live, names) = try database.reader.read { db in
            (Set(try String.fetchAll(db, sql: "SELECT name FROM host")),
             Set(try String.fetchAll(db, sql: "SELECT serial FROM certificate WHERE revokedAt IS NULL")),
             Set(try String.fetchAll(db, sql: "SELECT DISTINCT hostName FROM certificate")))
        }
        #expect(hosts == ["web-01", "host-x", "HOST-X", "localhost"])
        #expect(live == ["01", "02", "04", "06"], "the look-alike's and the older duplicate's are revoked")
        #expect(names == ["web-01", "host-x", "localhost", "db-01", "old-1"], "a name held in any spelling is held in normal form")
        #expect(try database.tagEdits(host: "web-01").added == ["OpenVMS"])
        #expect(try database.openRequests(now: Int64(Date().timeIntervalSince1970)).isEmpty, "an older release's approval does not survive")
        #expect(try database.knowsName("localhost"))

        let audit = try database.auditEntries(since: 0)
        #expect(audit.allSatisfy { $0.actor == "upgrade v6" })
        #expect(audit.contains { $0.action == .nameLeft && $0.host == "host-x" && $0.detail.contains("\"HOST-X\"") })
        #expect(audit.contains { $0.action == .certificateRevoked && $0.detail.contains("serial 03") })
        #expect(audit.contains { $0.action == .certificateRevoked && $0.detail.contains("serial 05") })
        #expect(audit.contains { $0.action == .nameLeft && $0.host == "localhost" })
        #expect(audit.contains { $0.action == .nameNormalized && $0.host == "web-01" })

        // The unique index: a second unrevoked certificate for one name cannot be written.
        #expect(throws: DatabaseError.self) {
            try database.writer.write { db in
                try db.execute(sql: "INSERT INTO certificate (serial, hostName, fingerprint, notAfter, issuedAt) VALUES ('99', 'web-01', 'f', 1, 1)")
            }
        }
    }
}
