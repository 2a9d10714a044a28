@testable import CollectorStore
import Foundation
import PortwardenTestSupport
import PostgresClient
import Testing

/// What only PostgreSQL has: two collectors (two `PostgresHistory` values on one
/// database) enrolling, renewing and revoking at once, and the in-memory view of
/// certificates' standing kept current across them by LISTEN/NOTIFY, through an outage.
@Suite struct PostgresIdentityTests {
    static let now: Int64 = 1_800_000_000

    /// Two collectors on one new database, and its connection string.
    func collectors() async throws -> (PostgresHistory, PostgresHistory, String) {
        let url = try await TestPostgres.freshDatabase()
        return (try PostgresHistory.open(url), try PostgresHistory.open(url), url)
    }

    func certificate(_ serial: String, _ host: String = "web-01", key: String, at now: Int64 = Self.now) -> IssuedCertificate {
        IssuedCertificate(serial: serial, hostName: host, fingerprint: "c\(serial)", notAfter: now + 86_400, issuedAt: now,
                          keyFingerprint: key)
    }

    /// Whether `condition` holds within `seconds`, asked every 10 ms.
    func within(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return condition()
    }

    /// `body(i)` on `count` threads at once; the results in order.
    func concurrently<T: Sendable>(_ count: Int, _ body: @Sendable (Int) throws -> T) -> [Result<T, any Error>] {
        let results = RaceResults([Result<T, any Error>?](repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { i in
            let result = Result { try body(i) }
            results.withLock { $0[i] = result }
        }
        return results.withLock { $0.map { $0! } }
    }

    @Test func aRevocationOnOneCollectorIsRefusedOnTheOtherWithinASecond() async throws {
        let (a, b, _) = try await collectors()
        try a.recordSigned(by: "test", at: Self.now) { certificate("S1", key: "k1") }
        #expect(b.standing(serial: "S1") == .firstPresentation)
        #expect(within(5) { b.standings.isCurrent }, "B's view loads and listens")
        #expect(b.standing(serial: "S1") == .firstPresentation)

        let revoked = Date()
        #expect(try a.revoke(host: "web-01", at: Self.now + 1, by: "test") == 1)
        #expect(within(1) { b.isRevoked(serial: "S1") })
        #expect(Date().timeIntervalSince(revoked) < 1)
        #expect(a.isRevoked(serial: "S1"), "the revoking collector sees its own change at once")
        #expect(b.standing(serial: "S1") == .revoked)

        // A presentation on A ends the overlap on B too.
        try a.recordSigned(by: "test", at: Self.now + 2) { certificate("S2", key: "k2", at: Self.now + 2) }
        #expect(within(1) { b.standing(serial: "S2") == .firstPresentation })
        try a.markPresented(serial: "S2", at: Self.now + 3)
        #expect(within(1) { b.standing(serial: "S2") == .accepted })
    }

    @Test func aNameTooLongForANotificationIsStillSeenRevoked() async throws {
        let (a, b, _) = try await collectors()
        let long = String(repeating: "a", count: 9_000) + ".example"
        try a.recordSigned(by: "test", at: Self.now) { certificate("L1", long, key: "k1") }
        _ = b.standing(serial: "L1")
        #expect(within(5) { b.standings.isCurrent })
        #expect(try a.revoke(host: long, at: Self.now + 1, by: "test") == 1)
        #expect(within(1) { b.isRevoked(serial: "L1") })
        #expect(a.isRevoked(serial: "L1"))
    }

    @Test func handshakesAreAnsweredFromMemoryNotByARead() async throws {
        let (_, b, url) = try await collectors()
        try b.recordSigned(by: "test", at: Self.now) { certificate("S1", key: "k1") }
        _ = b.standing(serial: "S1")
        #expect(within(5) { b.standings.isCurrent })
        // A change nobody announced is not seen: the answer came from memory.
        let direct = try PGConnection(url)
        try direct.execute("UPDATE certificate SET revokedAt = 1 WHERE serial = 'S1'")
        try await Task.sleep(for: .milliseconds(300))
        #expect(b.standing(serial: "S1") == .firstPresentation)
        // Announced, it is.
        try direct.notify(CertificateStandings.channel, "web-01")
        #expect(within(1) { b.isRevoked(serial: "S1") })
        // A serial the view does not hold is read directly: unrecorded, not refused.
        #expect(b.standing(serial: "nothing") == .unrecorded)
        #expect(!b.isRevoked(serial: "nothing"))
    }

    @Test func eightThreadsEnrollingOneNameThroughTwoCollectorsGetOneCertificate() async throws {
        let (a, b, _) = try await collectors()
        try a.rotateSecret(digest: "d", at: 0, by: "test")
        let secret = try #require(try b.credential(digest: "d")?.id)
        let outcomes = concurrently(8) { i in
            try (i % 2 == 0 ? a : b).enroll(EnrollmentAttempt(
                host: "db-01", keyFingerprint: "k\(i)", credentialID: secret, address: "192.0.2.\(i + 1)", policyReasons: [],
                requestTTL: 86_400, now: Self.now)) { certificate("S\(i)", "db-01", key: "k\(i)") }
        }
        let issued = outcomes.filter { if case .success(.issued) = $0 { true } else { false } }
        let pending = outcomes.filter { if case .success(.pending) = $0 { true } else { false } }
        #expect(issued.count == 1)
        #expect(pending.count == 7, "the others wait for an operator: the name is held now")
        let certificates = try a.certificates(host: "db-01")
        #expect(certificates.count == 1)
        #expect(certificates.allSatisfy { $0.isCurrent })
        #expect(try b.credential(digest: "d")?.uses == 1)
        #expect(try a.openRequests(now: Self.now).count == 7)
    }

    @Test func aRenewalRacedThroughTwoCollectorsIsGrantedOnce() async throws {
        let (a, b, _) = try await collectors()
        try a.recordSigned(by: "test", at: Self.now - 100) { certificate("S0", key: "k0", at: Self.now - 100) }
        let results = concurrently(8) { i in
            try (i % 2 == 0 ? a : b).renew(RenewalAttempt(presented: "S0", host: "web-01", keyFingerprint: "n\(i)",
                                                          address: "192.0.2.1", now: Self.now)) { certificate("R\(i)", key: "n\(i)") }
        }
        let granted = results.compactMap { try? $0.get().get() }
        #expect(granted.count == 1)
        let refusals = results.compactMap { result -> RenewalRefusal? in
            if case .success(.failure(let refusal)) = result { refusal } else { nil }
        }
        #expect(refusals.count == 7)
        #expect(refusals.allSatisfy { if case .renewed(serial: "S0", _) = $0 { true } else { false } })
        let current = try b.certificates(host: "web-01").filter(\.isCurrent)
        #expect(current.map(\.serial) == granted.map(\.serial))
    }

    @Test func theViewReconnectsAfterAnOutageAndSeesLaterRevocations() async throws {
        let (a, b, url) = try await collectors()
        try a.recordSigned(by: "test", at: Self.now) { certificate("S1", key: "k1") }
        try a.recordSigned(by: "test", at: Self.now) { certificate("T1", "db-01", key: "t1") }
        _ = b.standing(serial: "S1")
        #expect(within(5) { b.standings.isCurrent })

        try await TestPostgres.outage(of: url) {
            #expect(throws: StorageUnavailable.self) { try a.revoke(host: "web-01", at: Self.now + 1, by: "test") }
            #expect(within(2) { !b.standings.isCurrent }, "the view knows it is no longer current")
            #expect(!b.isRevoked(serial: "T1"), "a database that cannot be reached: what the view last knew")
            #expect(b.standing(serial: "never-seen") == .unrecorded, "and unrecorded what it did not hold, as a read said then")
        }

        #expect(try a.revoke(host: "web-01", at: Self.now + 2, by: "test") == 1, "the next call after the outage works")
        #expect(within(10) { b.standings.isCurrent }, "the view reconnects by itself")
        #expect(within(1) { b.isRevoked(serial: "S1") })
        #expect(!b.isRevoked(serial: "T1"))
        #expect(try a.revoke(host: "db-01", at: Self.now + 3, by: "test") == 1)
        #expect(within(1) { b.isRevoked(serial: "T1") })
    }

    @Test func aSettledStoreStopsListeningAndStartsAgainWhenAsked() async throws {
        let (a, b, _) = try await collectors()
        try a.recordSigned(by: "test", at: Self.now) { certificate("S1", key: "k1") }
        _ = b.standing(serial: "S1")
        #expect(within(5) { b.standings.isCurrent })
        try b.settle()
        #expect(!b.standings.isCurrent)
        #expect(b.standing(serial: "S1") == .firstPresentation, "read directly meanwhile")
        #expect(within(5) { b.standings.isCurrent })
    }
}

/// A value shared by threads under a lock.
private final class RaceResults<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
