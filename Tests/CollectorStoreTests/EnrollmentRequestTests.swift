import CollectorStore
import Foundation
import Testing

/// Enrollment decisions as the store makes them: the caps on waiting requests, the reason
/// a held name gives, what an issued certificate does to the rest, and retired secrets.
struct EnrollmentRequestTests {
    static let now: Int64 = 1_800_000_000

    /// A database with the secret in force and `held` holding a valid certificate of key "k0".
    func database(_ store: StoreMaker, held: String = "web-01") async throws -> (any HistoryStore, Int64) {
        let database = try await store.make()
        try database.rotateSecret(digest: "d", at: 0, by: "test")
        try database.recordSigned(by: "test", at: Self.now - 100) {
            IssuedCertificate(serial: "0A", hostName: held, fingerprint: "c0", notAfter: Self.now + 86_400, issuedAt: Self.now - 100,
                              keyFingerprint: "k0")
        }
        return (database, try #require(try database.credential(digest: "d")?.id))
    }

    func attempt(_ database: any HistoryStore, _ secret: Int64, _ host: String = "web-01", key: String,
                 from address: String?, at now: Int64 = Self.now, reasons: [String] = []) throws -> EnrollmentOutcome {
        try database.enroll(EnrollmentAttempt(host: host, keyFingerprint: key, credentialID: secret, address: address,
                                              policyReasons: reasons, requestTTL: 86_400, now: now)) {
            IssuedCertificate(serial: "S-\(key)", hostName: host, fingerprint: "c-\(key)", notAfter: now + 86_400, issuedAt: now)
        }
    }

    func isPending(_ outcome: EnrollmentOutcome) -> Bool { if case .pending = outcome { true } else { false } }

    @Test(arguments: StoreMaker.all) func oneSourceCannotFillTheListOfAHeldName(_ store: StoreMaker) async throws {
        let (database, secret) = try await database(store)
        for i in 0..<EnrollmentRequest.maxWaitingPerSource {
            #expect(isPending(try attempt(database, secret, key: "attacker-\(i)", from: "192.0.2.7")))
        }
        let more = try attempt(database, secret, key: "attacker-x", from: "192.0.2.7")
        #expect(more == .refused(.tooManyWaiting(count: 3, source: "192.0.2.7", until: Self.now + 86_400)))
        #expect(isPending(try attempt(database, secret, key: "reinstall", from: "192.0.2.8")), "another address is still heard")

        // Refusing the attacker's requests makes no room for that address again.
        for i in 0..<EnrollmentRequest.maxWaitingPerSource {
            _ = try database.refuseRequest(host: "web-01", fingerprint: "attacker-\(i)", now: Self.now, by: "test")
        }
        guard case .refused(.tooManyWaiting(_, "192.0.2.7", _)) = try attempt(database, secret, key: "attacker-y", from: "192.0.2.7")
        else { Issue.record("a refused source refilled"); return }

        // IPv6 counts per /64; IPv4-mapped as IPv4.
        for i in 0..<3 { _ = try attempt(database, secret, key: "v6-\(i)", from: "2001:db8:1:2::\(i + 1)") }
        let sameBlock = try attempt(database, secret, key: "v6-x", from: "2001:db8:1:2:ffff::9")
        #expect(sameBlock == .refused(.tooManyWaiting(count: 3, source: "2001:db8:1:2::/64", until: Self.now + 86_400)))
        #expect(isPending(try attempt(database, secret, key: "v6-y", from: "2001:db8:1:3::1")))
        guard case .refused(.tooManyWaiting(_, "192.0.2.7", _)) = try attempt(database, secret, key: "m", from: "::ffff:192.0.2.7")
        else { Issue.record("an IPv4-mapped address is another source"); return }
    }

    @Test(arguments: StoreMaker.all) func manySourcesFillANameOnlyUpToItsCapAndARefusalMakesRoom(_ store: StoreMaker) async throws {
        let (database, secret) = try await database(store)
        var n = 0
        while n < EnrollmentRequest.maxWaitingPerName {
            #expect(isPending(try attempt(database, secret, key: "k-\(n)", from: "198.51.100.\(n / 3 + 1)")))
            n += 1
        }
        let full = try attempt(database, secret, key: "late", from: "203.0.113.1")
        #expect(full == .refused(.tooManyWaiting(count: EnrollmentRequest.maxWaitingPerName, source: nil, until: Self.now + 86_400)))
        _ = try database.refuseRequest(host: "web-01", fingerprint: "k-0", now: Self.now, by: "test")
        #expect(isPending(try attempt(database, secret, key: "late", from: "203.0.113.1")))
        #expect(try database.openRequests(now: Self.now).count == EnrollmentRequest.maxWaitingPerName)
        // Expired requests count for nothing.
        #expect(isPending(try attempt(database, secret, key: "next-day", from: "198.51.100.1", at: Self.now + 86_400)))
    }

    @Test(arguments: StoreMaker.all) func theReasonSaysWhatTheNamesCertificateIs(_ store: StoreMaker) async throws {
        let (database, secret) = try await database(store)
        func reason(_ host: String, key: String, at now: Int64 = Self.now) async throws -> String {
            guard case .pending(let request) = try attempt(database, secret, host, key: key, from: "192.0.2.1", at: now) else {
                Issue.record("\(host) not pending")
                return ""
            }
            return request.reason ?? ""
        }
        await #expect(try reason("web-01", key: "k0").hasPrefix("this key already holds the name's current certificate (serial 0A, valid until 2027-01-"))
        await #expect(try reason("web-01", key: "other") == "the name's certificate is valid until 2027-01-16T08:00:00Z (serial 0A), held by another key")
        #expect(try database.revoke(host: "web-01", at: Self.now + 10) == 1)
        await #expect(try reason("web-01", key: "third", at: Self.now + 20) == "the name's certificate was revoked at 2027-01-15T08:00:10Z (serial 0A)")
        let (expired, secret2) = try await self.database(store, held: "db-01")
        guard case .pending(let request) = try attempt(expired, secret2, "db-01", key: "k9", from: nil, at: Self.now + 86_401) else {
            Issue.record("an expired name was issued")
            return
        }
        #expect(request.reason == "the name's certificate expired at 2027-01-16T08:00:00Z (serial 0A)")
        guard case .pending(let tagged) = try attempt(expired, secret2, "vms-1", key: "k8", from: nil,
                                                      reasons: ["inventory entry 'vms-*' (inventory.yaml:2) matches this name and tags it OpenVMS"])
        else { Issue.record("a name the policy singles out was issued"); return }
        #expect(tagged.reason == "inventory entry 'vms-*' (inventory.yaml:2) matches this name and tags it OpenVMS")
    }

    @Test(arguments: StoreMaker.all) func issuingSupersedesTheOtherKeysRequestsSoAStaleApprovalCannotTakeTheNameBack(_ store: StoreMaker) async throws {
        let (database, secret) = try await database(store)
        #expect(isPending(try attempt(database, secret, key: "reinstall", from: "192.0.2.1")))
        #expect(isPending(try attempt(database, secret, key: "stale", from: "192.0.2.2")))
        #expect((try? database.approveRequest(host: "web-01", fingerprint: "reinstall", now: Self.now, ttl: 600, by: "test").get()) != nil)
        guard case .issued(let certificate) = try attempt(database, secret, key: "reinstall", from: "192.0.2.1") else {
            Issue.record("the approved key was not issued")
            return
        }
        #expect(certificate.keyFingerprint == "reinstall")

        let listed = try database.openRequests(now: Self.now)
        #expect(listed.map(\.keyFingerprint) == ["stale"] && listed.map(\.state) == ["superseded"])
        #expect(listed.first?.supersededBy == certificate.serial)
        let late = try database.approveRequest(host: "web-01", fingerprint: "stale", now: Self.now, ttl: 600, by: "test")
        guard case .failure(.superseded(let stale)) = late else { Issue.record("\(late)"); return }
        #expect(stale.keyFingerprint == "stale")
        #expect(try database.auditEntries(since: 0).contains { $0.action == .requestSuperseded && $0.detail.hasPrefix("key stale") })

        // Asking again puts it before an operator afresh; an operator's own certificate supersedes too.
        guard case .pending(let again) = try attempt(database, secret, key: "stale", from: "192.0.2.2") else {
            Issue.record("a superseded key asking again is not listed")
            return
        }
        #expect(again.state == "waiting" && again.reason?.contains("held by another key") == true)
        try database.recordSigned(by: "operator", at: Self.now) {
            IssuedCertificate(serial: "0B", hostName: "web-01", fingerprint: "c", notAfter: Self.now + 9, issuedAt: Self.now,
                              keyFingerprint: "signed")
        }
        #expect(try database.openRequests(now: Self.now).allSatisfy { $0.supersededBy != nil })
        // A superseded key can still be refused, for good.
        #expect((try? database.refuseRequest(host: "web-01", fingerprint: "stale", now: Self.now, by: "test").get()) != nil)
        #expect(try attempt(database, secret, key: "stale", from: "192.0.2.2") == .refused(.keyRefused(at: Self.now)))
    }

    @Test(arguments: StoreMaker.all) func aDisabledSecretIsToldApartFromAReplacedOne(_ store: StoreMaker) async throws {
        let database = try await store.make()
        try database.rotateSecret(digest: "one", at: 10, by: "test")
        try database.rotateSecret(digest: "two", at: 20, by: "test")
        #expect(try database.disableSecret(at: 30, by: "test"))
        #expect(try database.credential(digest: "one")?.refusal(at: 40) == .replacedSecret(at: 20))
        #expect(try database.credential(digest: "two")?.refusal(at: 40) == .disabledSecret(at: 30))
        #expect(EnrollmentRefusal.disabledSecret(at: 30).description.contains("disabled"))
        // Enrollment by secret turned on again: the disabled one was replaced, not "off".
        try database.rotateSecret(digest: "three", at: 50, by: "test")
        #expect(try database.credential(digest: "two")?.refusal(at: 60) == .replacedSecret(at: 30))
        #expect(try database.credential(digest: "one")?.refusal(at: 60) == .replacedSecret(at: 20))
        #expect(try database.credential(digest: "three")?.refusal(at: 60) == nil)
    }

    @Test(arguments: StoreMaker.all) func certificatesAreListedOldestFirstTheSupersededRevoked(_ store: StoreMaker) async throws {
        let (database, _) = try await database(store)
        for (serial, host) in [("0B", "web-01"), ("0C", "db-01")] {
            try database.recordSigned(by: "operator", at: Self.now) {
                IssuedCertificate(serial: serial, hostName: host, fingerprint: "c", notAfter: Self.now + 9, issuedAt: Self.now)
            }
        }
        let web = try database.certificates(host: "web-01")
        #expect(web.map(\.serial) == ["0A", "0B"] && web.map(\.revokedAt) == [Self.now, nil], "\(web)")
        #expect(web.last?.keyFingerprint == nil && web.first?.keyFingerprint == "k0" && web.first?.notAfter == Self.now + 86_400)
        #expect(try database.certificates().map(\.serial) == ["0A", "0B", "0C"])
        #expect(try database.certificates(host: "nobody").isEmpty)
    }
}
