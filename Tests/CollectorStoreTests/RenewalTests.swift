import CollectorStore
import Foundation
import Testing

/// Renewal as the store decides it: only the name's current certificate renews, for a
/// new key; the predecessor is accepted until its successor is first presented; a lost
/// answer may be asked for again with the same new key.
struct RenewalTests {
    static let now: Int64 = 1_800_000_000

    /// A store where web-01 holds certificate "A" of key "kA".
    func database(_ store: StoreMaker) async throws -> any HistoryStore {
        let database = try await store.make()
        try database.recordSigned(by: "test", at: Self.now - 100) {
            IssuedCertificate(serial: "A", hostName: "web-01", fingerprint: "cA", notAfter: Self.now + 86_400,
                              issuedAt: Self.now - 100, keyFingerprint: "kA")
        }
        return database
    }

    func renew(_ database: any HistoryStore, _ presented: String, key: String, as serial: String,
               host: String = "web-01", at now: Int64 = Self.now) throws -> Result<IssuedCertificate, RenewalRefusal> {
        try database.renew(RenewalAttempt(presented: presented, host: host, keyFingerprint: key, address: "192.0.2.1", now: now)) {
            IssuedCertificate(serial: serial, hostName: host, fingerprint: "c\(serial)", notAfter: now + 86_400, issuedAt: now)
        }
    }

    @Test(arguments: StoreMaker.all) func theOverlapEndsAtTheSuccessorsFirstPresentation(_ store: StoreMaker) async throws {
        let database = try await database(store)
        #expect(database.standing(serial: "A") == .firstPresentation)
        let renewed = try renew(database, "A", key: "kB", as: "B").get()
        #expect(renewed.renews == "A" && renewed.keyFingerprint == "kB")
        #expect(database.standing(serial: "A") == .accepted, "presented: it asked for the renewal")
        #expect(database.standing(serial: "B") == .firstPresentation)
        try database.markPresented(serial: "B", at: Self.now + 1)
        #expect(database.standing(serial: "B") == .accepted)
        #expect(database.standing(serial: "A") == .superseded)
        #expect(database.standing(serial: "unknown") == .unrecorded, "not on record: the TLS layer decides by its CA")
        // /metrics: one name, one current certificate (its renewed predecessor is not counted).
        #expect(try database.currentCertificatesEnding(before: Self.now + 2 * 86_400) == 1)
        #expect(try database.currentCertificatesEnding(before: Self.now) == 0)
        #expect(try database.auditEntries(since: 0).contains { $0.action == .certificateRenewed && $0.host == "web-01" })
    }

    @Test(arguments: StoreMaker.all) func onlyTheCurrentCertificateRenewsForANewKey(_ store: StoreMaker) async throws {
        let database = try await database(store)
        #expect(try renew(database, "A", key: "kA", as: "X") == .failure(.sameKey))
        #expect(try renew(database, "A", key: "kB", as: "X", host: "db-01") == .failure(.otherName(serial: "A", holder: "web-01")))
        #expect(try renew(database, "Z", key: "kB", as: "X") == .failure(.unknown(serial: "Z")))
        _ = try renew(database, "A", key: "kB", as: "B").get()
        // A stolen copy of the predecessor cannot mint its own successor.
        #expect(try renew(database, "A", key: "kThief", as: "X") == .failure(.renewed(serial: "A", by: "B")))
        // The host whose answer was lost asks again with the same new key: B, never used,
        // is revoked and signed again.
        let again = try renew(database, "A", key: "kB", as: "B2").get()
        #expect(again.renews == "A")
        #expect(database.standing(serial: "B") == .revoked)
        try database.markPresented(serial: "B2", at: Self.now + 1)
        // Once used, the successor is the only one that renews.
        #expect(try renew(database, "A", key: "kB", as: "X") == .failure(.renewed(serial: "A", by: "B2")))
        _ = try renew(database, "B2", key: "kC", as: "C").get()
        // Revoked (an operator's `hosts revoke`, or `hosts forget`): nothing renews.
        _ = try database.revoke(host: "web-01", at: Self.now + 2, by: "test")
        #expect(try renew(database, "C", key: "kD", as: "X") == .failure(.revoked(serial: "C", at: Self.now + 2)))
        #expect(database.standing(serial: "C") == .revoked)
        #expect(try database.certificates(host: "web-01").filter(\.isCurrent).isEmpty)
        #expect(try database.currentCertificatesEnding(before: Self.now + 2 * 86_400) == 0, "revoked: not counted")
        let refusals = try database.auditEntries(since: 0).filter { $0.action == .renewalRefused }
        #expect(refusals.count == 6, "\(refusals.map(\.detail))")
    }

    /// A key once replaced is never certified again, whichever certificate asks: a copy
    /// of it stolen since is worth nothing. The lost answer's retry (the same new key,
    /// again and again) still works.
    @Test(arguments: StoreMaker.all) func aKeyTheNameHeldBeforeIsNeverCertifiedAgain(_ store: StoreMaker) async throws {
        let database = try await database(store)
        _ = try renew(database, "A", key: "kB", as: "B").get()
        _ = try renew(database, "A", key: "kB", as: "B2", at: Self.now + 1).get()
        _ = try renew(database, "A", key: "kB", as: "B3", at: Self.now + 2).get()
        try database.markPresented(serial: "B3", at: Self.now + 3)
        #expect(try renew(database, "B3", key: "kA", as: "X", at: Self.now + 4) == .failure(.reusedKey(serial: "A")))
        _ = try renew(database, "B3", key: "kC", as: "C", at: Self.now + 5).get()
        try database.markPresented(serial: "C", at: Self.now + 6)
        #expect(try renew(database, "C", key: "kB", as: "X", at: Self.now + 7_200).map(\.serial) == .failure(.reusedKey(serial: "B")))
        #expect(try database.certificates(host: "web-01").map(\.serial) == ["A", "B", "B2", "B3", "C"])
    }

    /// The lost answer's path re-signs at each request: a name renews at most
    /// `renewalsPerHour` times an hour, then is told when to ask again.
    @Test(arguments: StoreMaker.all) func renewalsPerNameAreBoundedInAnHour(_ store: StoreMaker) async throws {
        let database = try await database(store)
        let limit = CollectorDatabase.renewalsPerHour
        for attempt in 0..<limit {
            _ = try renew(database, "A", key: "kB", as: "B\(attempt)", at: Self.now + Int64(attempt)).get()
        }
        #expect(try renew(database, "A", key: "kB", as: "X", at: Self.now + 100) == .failure(.throttled(retryAfter: 3_500)))
        #expect(try renew(database, "A", key: "kB", as: "X", host: "web-01", at: Self.now + 3_599)
                == .failure(.throttled(retryAfter: 1)))
        #expect(try database.certificates(host: "web-01").count == 1 + limit, "nothing signed while refused")
        // An hour after the first, the next cycle's retry gets through.
        #expect(try renew(database, "A", key: "kB", as: "B\(limit)", at: Self.now + 3_600).map(\.serial) == .success("B\(limit)"))
        let refusals = try database.auditEntries(since: 0).filter { $0.action == .renewalRefused }
        #expect(refusals.isEmpty, "a throttled host does not fill the audit table: \(refusals.map(\.detail))")
    }
}
