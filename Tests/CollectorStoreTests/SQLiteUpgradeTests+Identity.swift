import CollectorStore
import Foundation
import Testing

/// The previous release's identities after the upgrade: credentials, requests,
/// certificates, the audit and refusals read back the same, and decide the same.
extension SQLiteUpgradeTests {
    struct NotToBeSigned: Error {}

    @Test(arguments: UpgradeFixture.all)
    func credentialsKeepTheirDigestsUsesAndRevocation(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database, digests = fixture.manifest.credentialDigests
        let secret = try #require(try db.credential(digest: digests.secret))
        #expect(secret.kind == .secret && secret.uses == 2 && secret.revokedAt == nil && secret.names == nil)
        #expect(secret.createdBy == Story.operatorActor)
        let token = try #require(try db.credential(digest: digests.token))
        #expect(token.kind == .token && token.names == "db-*" && token.maxUses == 2 && token.uses == 1)
        #expect(token.refusal(at: token.createdAt + 60) == nil, "one use left, within its 30 days")
        #expect(token.refusal(at: token.createdAt + 31 * 86_400) == .tokenExpired(id: token.id!, at: token.expiresAt!))
        let revoked = try #require(try db.credential(digest: digests.revokedToken))
        #expect(revoked.refusal(at: revoked.createdAt + 60) == .tokenRevoked(id: revoked.id!, at: revoked.revokedAt!))
        #expect(try db.tokens().map(\.names) == ["lab-*", "db-*"], "newest first")
        #expect(try db.enrollmentIsOpen(now: token.createdAt + 60))
    }

    @Test(arguments: UpgradeFixture.all)
    func requestsCertificatesAndRevocationStillDecide(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database, keys = fixture.manifest.keyFingerprints, manifest = fixture.manifest
        let audit = try db.auditEntries(since: 0)
        let asked = try #require(audit.first { $0.action == .enrollPending && $0.host == "vms-02" }).at

        // The one request left waiting; the approved and the refused ones are settled.
        let open = try db.openRequests(now: asked)
        #expect(open.map(\.hostName) == ["vms-02"])
        #expect(open.first?.keyFingerprint == keys.waiting && open.first?.state == "waiting")
        #expect(open.first?.address == "127.0.0.1" && open.first?.credential == "secret #1")
        #expect(open.first?.reason?.contains("inventory entry 'vms-*'") == true)

        // Certificates: old-01's revoked, the others in force.
        #expect(db.isRevoked(serial: try manifest.serial(of: "old-01")))
        for host in ["web-01", "db-01", "vms-01"] {
            #expect(!db.isRevoked(serial: try manifest.serial(of: host)), "\(host)")
        }
        #expect(try db.knowsName("old-01"))

        // The refused key is still refused; the waiting one may be approved.
        let secret = try #require(try db.credential(digest: manifest.credentialDigests.secret))
        let again = EnrollmentAttempt(host: "web-01", keyFingerprint: keys.refused, credentialID: secret.id!,
                                      address: "127.0.0.1", policyReasons: [], requestTTL: 86_400, now: asked + 60)
        guard case .refused(.keyRefused) = try db.enroll(again, sign: { throw NotToBeSigned() }) else {
            Issue.record("the key an operator refused before the upgrade was not refused after it")
            return
        }
        let approved = try db.approveRequest(host: "vms-02", fingerprint: String(keys.waiting.prefix(12)),
                                             now: asked + 60, ttl: 86_400, by: "test")
        #expect((try? approved.get())?.approvedAt == asked + 60)
        // Revoking after the upgrade revokes the certificate issued before it.
        #expect(try db.revoke(host: "web-01", at: asked + 120) == 1)
        #expect(db.isRevoked(serial: try manifest.serial(of: "web-01")))
    }

    @Test(arguments: UpgradeFixture.all)
    func theAuditAndRefusalsSurvive(_ name: String) throws {
        let fixture = try UpgradeFixture(name)
        defer { fixture.remove() }
        let db = fixture.database
        let audit = try db.auditEntries(since: 0)
        let expected: [(AuditAction, String?)] = [
            (.secretRotated, nil), (.enrollIssued, "web-01"), (.tokenCreated, nil), (.tokenCreated, nil),
            (.enrollIssued, "db-01"), (.tokenRevoked, nil), (.enrollPending, "vms-01"), (.requestApproved, "vms-01"),
            (.enrollIssued, "vms-01"), (.enrollPending, "web-01"), (.requestRefused, "web-01"), (.enrollRefused, "web-01"),
            (.enrollPending, "vms-02"), (.certificateSigned, "old-01"), (.certificateRevoked, "old-01"),
        ]
        // In this order; a later release may audit more between them.
        var rest = audit[...]
        for (action, host) in expected {
            guard let found = rest.firstIndex(where: { $0.action == action && $0.host == host }) else {
                Issue.record("no \(action) of \(host ?? "-") in order in \(audit.map { "\($0.action) \($0.host ?? "-")" })")
                break
            }
            rest = rest[(found + 1)...]
        }
        #expect(audit.first { $0.action == .enrollIssued && $0.host == "db-01" }?.actor == "token #2")
        #expect(audit.first { $0.action == .certificateRevoked }?.actor == Story.operatorActor)
        #expect(audit.first { $0.action == .certificateSigned }?.detail.contains(try fixture.manifest.serial(of: "old-01")) == true)
        #expect(zip(audit, audit.dropFirst()).allSatisfy { $0.at <= $1.at }, "oldest first")

        let refusal = try #require(try db.currentRefusals()["db-01"])
        #expect(refusal.reason == .clockSkew && refusal.refusals == 1 && refusal.firstRefused == refusal.lastRefused)
        #expect(refusal.message.hasPrefix("clock skew: collected_at"))
        #expect(try db.currentRefusals().count == 1)
        let host = try db.host(named: "db-01")
        #expect(HostState(host: host, refusal: refusal, now: refusal.lastRefused, staleAfter: 900).text == "refusing: clock skew")
        #expect(try db.hostCounts(now: refusal.lastRefused, staleAfter: .max / 2) == (all: 4, stale: 0, refusing: 1))
    }
}
