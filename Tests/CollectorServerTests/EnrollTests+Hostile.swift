import CollectorClient
@testable import CollectorServer
import CollectorStore
import CollectorTestSupport
import Foundation
import Logging
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Enrollment as an attacker holding the secret would try it, against the collector on
/// loopback: each case shows nothing is issued that should not be, and the audit says so.
extension EnrollTests {
    /// One attempt with a fresh key (or `key`) for `name`: issued, pending, or the refusal.
    func attempt(_ collector: RunningCollector, _ pki: TestPKI, _ name: String, key: PrivateKey? = nil,
                 secret: String? = secret, token: String? = nil) async throws -> (Result<EnrollmentResult, EnrollmentRefused>, CertificateRequest) {
        let request = try CertificateRequest(key: key ?? PrivateKey.generate(), commonName: name)
        let connection = try newcomer(pki, collector.port)
        let pem = try request.pem()
        let result: Result<EnrollmentResult, EnrollmentRefused> = try await blocking {
            do { return .success(try connection.enroll(csr: pem, secret: token == nil ? secret : nil, token: token)) } catch let refused as EnrollmentRefused {
                return .failure(refused)
            }
        }
        return (result, request)
    }

    func isIssued(_ result: Result<EnrollmentResult, EnrollmentRefused>) -> Bool {
        if case .success(.issued) = result { true } else { false }
    }

    func isPending(_ result: Result<EnrollmentResult, EnrollmentRefused>) -> Bool {
        if case .success(.pending) = result { true } else { false }
    }

    func refusal(_ result: Result<EnrollmentResult, EnrollmentRefused>) -> EnrollmentRefused? {
        if case .failure(let refused) = result { refused } else { nil }
    }

    func unrevoked(_ database: CollectorDatabase, _ host: String) async throws -> Int {
        try database.certificates(host: host).count { $0.revokedAt == nil }
    }

    func actions(_ database: CollectorDatabase, host: String? = nil) throws -> [String] {
        try database.auditEntries(since: 0).filter { host == nil || $0.host == host }.map(\.action.rawValue)
    }

    @Test func aRevokedNameWaitsForAnOperatorInsteadOfBeingIssuedAgain() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollmentSecret: Self.secret)
        defer { collector.stop() }
        #expect(isIssued(try await attempt(collector, pki, "web-02").0))
        #expect(try database.revoke(host: "web-02", at: Self.now, by: "operator test") == 1)
        let (again, _) = try await attempt(collector, pki, "web-02")
        #expect(isPending(again), "a revoked name is not issued again with the secret: \(again)")
        #expect(try await unrevoked(database, "web-02") == 0)
        #expect(try actions(database, host: "web-02") == ["enroll.issued", "certificate.revoked", "enroll.pending"])
    }

    @Test func approvingByFingerprintIssuesOnlyThatKey() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollmentSecret: Self.secret)
        defer { collector.stop() }
        #expect(isIssued(try await attempt(collector, pki, "web-02").0))
        let attackerKey = try PrivateKey.generate(), reinstallKey = try PrivateKey.generate()
        let (attacker, attackerRequest) = try await attempt(collector, pki, "web-02", key: attackerKey)
        let (reinstall, reinstallRequest) = try await attempt(collector, pki, "web-02", key: reinstallKey)
        #expect(isPending(attacker) && isPending(reinstall))
        #expect(Set(try database.openRequests(now: Self.now).map(\.keyFingerprint))
            == [attackerRequest.keyFingerprint, reinstallRequest.keyFingerprint])

        let approved = try database.approveRequest(host: "web-02", fingerprint: reinstallRequest.keyFingerprint, now: Self.now,
                                                   ttl: 3_600, by: "operator test")
        #expect((try? approved.get()) != nil)
        #expect(isPending(try await attempt(collector, pki, "web-02", key: attackerKey).0), "the attacker's key still waits")
        #expect(isIssued(try await attempt(collector, pki, "web-02", key: reinstallKey).0))
        #expect(try await unrevoked(database, "web-02") == 1)

        // The operator turns the attacker's key away: it is refused from then on.
        #expect((try? database.refuseRequest(host: "web-02", fingerprint: String(attackerRequest.keyFingerprint.prefix(10)),
                                             now: Self.now, by: "operator test").get()) != nil)
        let refused = refusal(try await attempt(collector, pki, "web-02", key: attackerKey).0)
        #expect(refused?.status == 403 && refused?.message.contains("refused this key") == true, "\(String(describing: refused))")
        #expect(try actions(database, host: "web-02").contains("request.refused"))
    }

    @Test func sixteenParallelEnrollmentsForAnUnusedNameIssueOneCertificate() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.open(path: FileManager.default.temporaryDirectory
            .appendingPathComponent("pw-race-\(UUID().uuidString).sqlite").path)
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollmentSecret: Self.secret)
        defer { collector.stop() }
        let results = try await withThrowingTaskGroup(of: Result<EnrollmentResult, EnrollmentRefused>.self) { group in
            for _ in 0..<16 { group.addTask { try await attempt(collector, pki, "fresh-01").0 } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter(isIssued).count == 1, "\(results)")
        let pending = results.filter(isPending).count, turnedAway = results.filter { refusal($0)?.status == 429 }.count
        #expect(pending + turnedAway == 15 && pending <= EnrollmentRequest.maxWaitingPerSource, "\(results)")
        #expect(try await unrevoked(database, "fresh-01") == 1)
        #expect(try database.certificates().count == 1)
    }

    @Test func lookAlikesOfAHeldNameWaitForThatName() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollmentSecret: Self.secret)
        defer { collector.stop() }
        #expect(isIssued(try await attempt(collector, pki, "host-x").0))
        for lookAlike in ["HOST-X", "host-x.", "Host-X."] {
            let (result, _) = try await attempt(collector, pki, lookAlike)
            #expect(isPending(result), "\(lookAlike): \(result)")
        }
        #expect(Set(try database.openRequests(now: Self.now).map(\.hostName)) == ["host-x"])
        #expect(try database.certificates().count == 1)
    }

    @Test(arguments: [("localhost", "localhost"), ("a..b", "empty label"), ("10.0.0.1", "address"),
                      ("web_01", "letters a-z"), ("evil\n200 OK", "letters a-z"), ("-x", "begin or end")])
    func namesThatCannotNameAHostAreRefusedWithTheReason(_ name: String, reason: String) async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollmentSecret: Self.secret)
        defer { collector.stop() }
        let refused = refusal(try await attempt(collector, pki, name).0)
        #expect(refused?.status == 400, "\(name)")
        #expect(refused?.message.contains(reason) == true, "\(String(describing: refused?.message))")
        #expect(try database.auditEntries(since: 0).last?.action == .enrollRefused)
        // Kept as it came, within its bound; `portwarden audit` shows it escaped, as every output does.
        #expect(try database.auditEntries(since: 0).allSatisfy { $0.detail.utf8.count <= AuditText.maxBytes })
    }

    @Test func aNameTheShippedInventoryTagsWaitsForAnOperator() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let policies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies").path
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let policy = PolicyHolder(directory: policies, metrics: CollectorMetrics(), logger: logger)
        #expect(policy.reload())
        try database.tag(host: "lab-9", "OpenVMS", at: Self.now, by: "test")
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollmentSecret: Self.secret, policy: policy)
        defer { collector.stop() }
        let vmsKey = try PrivateKey.generate()
        let (vms, request) = try await attempt(collector, pki, "vms-anything", key: vmsKey)
        guard case .success(.pending(let message)) = vms else { Issue.record("a vms-* name was issued at once: \(vms)"); return }
        #expect(message.contains("OpenVMS"), "\(message)")
        #expect(isPending(try await attempt(collector, pki, "lab-9").0), "a name an operator tagged waits too")
        #expect(isIssued(try await attempt(collector, pki, "web-77").0), "an untagged new name is issued")
        _ = try database.approveRequest(host: "vms-anything", fingerprint: request.keyFingerprint, now: Self.now, ttl: 60, by: "test")
        #expect(isPending(try await attempt(collector, pki, "vms-anything").0), "another key is not the approved one")
        #expect(isIssued(try await attempt(collector, pki, "vms-anything", key: vmsKey).0))
    }

    @Test func anExpiredRequestCannotBeApproved() throws {
        let database = try CollectorDatabase.inMemory()
        try database.rotateSecret(digest: CredentialText.digest(Self.secret), at: 0, by: "test")
        let secretID = try #require(try database.credential(digest: CredentialText.digest(Self.secret))?.id)
        try database.recordSigned(by: "test", at: 100) {
            IssuedCertificate(serial: "01", hostName: "db-1", fingerprint: "f", notAfter: 10_000, issuedAt: 100)
        }
        let outcome = try database.enroll(EnrollmentAttempt(host: "db-1", keyFingerprint: "abcdef0123", credentialID: secretID,
                                                            address: "127.0.0.1", policyReasons: [], requestTTL: 60, now: 200)) {
            Issue.record("signed for a held name")
            throw CancellationError()
        }
        guard case .pending(let request) = outcome else { Issue.record("\(outcome)"); return }
        #expect(request.expiresAt == 260)
        let late = try database.approveRequest(host: "db-1", fingerprint: "abcdef01", now: 260, ttl: 60, by: "test")
        #expect(late == .failure(.expired(request)))
        #expect(try database.openRequests(now: 260).isEmpty)
    }

    @Test func tokensEnrollOnlyTheirNamesTheirUsesUntilTheyExpireOrAreRevoked() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        func token(_ names: String, uses: Int64 = 5, expires: Int64 = Self.now + 3_600) throws -> (String, Int64) {
            let text = try CredentialText.newToken()
            let made = try database.createToken(EnrollmentCredential(kind: .token, digest: CredentialText.digest(text), names: names,
                                                                     maxUses: uses, expiresAt: expires, createdAt: Self.now,
                                                                     createdBy: "test"), scope: names)
            return (text, made.id!)
        }
        let (web, _) = try token("web-*", uses: 1)
        let outside = refusal(try await attempt(collector, pki, "db-01", token: web).0)
        #expect(outside?.status == 403 && outside?.message.contains("only names matching web-*") == true, "\(String(describing: outside))")
        #expect(isIssued(try await attempt(collector, pki, "WEB-01", token: web).0), "in its names, in normal form")
        let usedUp = refusal(try await attempt(collector, pki, "web-02", token: web).0)
        #expect(usedUp?.message.contains("used 1 time") == true, "\(String(describing: usedUp))")

        let (old, _) = try token("*", expires: Self.now - 1)
        #expect(refusal(try await attempt(collector, pki, "web-03", token: old).0)?.message.contains("expired") == true)
        let (revoked, id) = try token("*")
        #expect(try database.revokeToken(id: id, at: Self.now, by: "test"))
        #expect(refusal(try await attempt(collector, pki, "web-04", token: revoked).0)?.message.contains("revoked") == true)
        #expect(refusal(try await attempt(collector, pki, "web-05", token: "pwt_guess").0)?.status == 403)
        #expect(try database.auditEntries(since: 0).filter { $0.action == .enrollRefused }.count == 5)
    }

    @Test func aRotatedSecretStopsWorkingWhileTheCollectorRuns() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollmentSecret: Self.secret)
        defer { collector.stop() }
        #expect(isIssued(try await attempt(collector, pki, "a-1").0))
        try database.rotateSecret(digest: CredentialText.digest("the new one"), at: Self.now, by: "test")
        let old = refusal(try await attempt(collector, pki, "a-2").0)
        #expect(old?.status == 403 && old?.message.contains("replaced") == true, "\(String(describing: old))")
        #expect(isIssued(try await attempt(collector, pki, "a-3", secret: "the new one").0))
    }

    @Test func oneAddressIsLimitedWhileAnotherGoesOn() {
        final class Clock: @unchecked Sendable { var now = 0.0 }
        let clock = Clock()
        let limiter = EnrollmentLimiter(limits: EnrollmentLimits(perMinute: 60, burst: 3, failuresPerMinute: 6, failureBurst: 2),
                                        clock: { clock.now })
        let flood = IPAddress("127.0.0.2"), good = IPAddress("127.0.0.1")
        #expect((0..<3).allSatisfy { _ in limiter.admit(flood) == nil })
        #expect(limiter.admit(flood) == 1, "the fourth at once waits a second")
        #expect(limiter.admit(IPAddress("::ffff:127.0.0.2")) != nil, "the same address written as IPv6")
        #expect(limiter.admit(good) == nil)
        clock.now = 1
        #expect(limiter.admit(flood) == nil, "a second later there is room for one")
        // Wrong secrets: two at once, then one per ten seconds.
        #expect(limiter.failed(flood) == nil && limiter.failed(flood) == nil)
        #expect(limiter.failed(flood) == 10)
        #expect(limiter.failed(good) == nil)
        // IPv6 counts per /64.
        let a = IPAddress("2001:db8::1"), b = IPAddress("2001:db8::2"), c = IPAddress("2001:db8:0:1::1")
        #expect((0..<3).allSatisfy { _ in limiter.admit(a) == nil })
        #expect(limiter.admit(b) != nil)
        #expect(limiter.admit(c) == nil)
    }

    /// A certificate an older release signed as `WEB-01` reports as web-01, the name the
    /// v6 migration gave its rows; the body may spell the name either way.
    @Test func aCertificateNamedBeforeNormalFormReportsUnderItsNormalName() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let legacy = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port),
                                         context: try pki.clientContext(try pki.host("WEB-01")), timeout: 5)
        let response = try await blocking { try legacy.post("/v1/reports", body: ReportTests.snapshot(host: "WEB-01")) }
        #expect(response.status == 200, "\(response.text)")
        #expect(try database.openListeners(host: "web-01").count == 2)
        #expect(try database.openListeners(host: "WEB-01").isEmpty)
        let other = try await blocking { try legacy.post("/v1/reports", body: ReportTests.snapshot(host: "web-02", sequence: 2)) }
        #expect(other.status == 403)
    }
}
