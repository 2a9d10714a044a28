import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing

/// `hosts forget` as the store does it: one transaction that revokes, closes as retired,
/// marks and audits; what a forgotten host's reports can and cannot do afterwards.
struct RetireTests {
    static let now: Int64 = 1_800_000_000

    /// Opens one finding per listener on 557 (never resolves): enough to see what closes them.
    static let evaluator: FindingEvaluator = { subject, open in
        FindingUpdate(open: subject.listeners.filter { $0.port == 557 && open["vms \(subject.host)"] == nil }.map {
            ObservedFinding(identity: "vms \(subject.host)", rule: "openvms", severity: "high", listener: $0, waiver: nil,
                            policyVersion: "p1")
        })
    }

    @discardableResult
    func report(_ db: any HistoryStore, _ host: String, _ sequence: UInt64, collected: Int64, received: Int64) throws -> IngestOutcome {
        try db.ingest(HistoryFixtures.snapshot(sequence, at: Timestamp.rfc3339(collected), host: host,
                                               [HistoryFixtures.listener(22, [HistoryFixtures.sshd]),
                                                HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]),
                      host: host, bodyDigest: "\(host)-\(sequence)", receivedAt: received, findings: Self.evaluator)
    }

    func sign(_ db: any HistoryStore, _ host: String, serial: String, at time: Int64) throws {
        try db.recordSigned(by: "test", at: time) {
            IssuedCertificate(serial: serial, hostName: host, fingerprint: "c-\(serial)", notAfter: time + 86_400, issuedAt: time)
        }
    }

    @Test(arguments: StoreMaker.all) func forgettingRevokesClosesAsRetiredMarksAndAuditsInOneGo(_ store: StoreMaker) async throws {
        let db = try await store.make()
        try db.rotateSecret(digest: "d", at: 0, by: "test")
        try sign(db, "web-01", serial: "0A", at: Self.now - 1_000)
        try sign(db, "db-01", serial: "0B", at: Self.now - 1_000)
        try report(db, "web-01", 1, collected: Self.now - 500, received: Self.now - 500)
        try report(db, "db-01", 1, collected: Self.now - 500, received: Self.now - 500)
        try db.record(refusals: [HostRefusal(hostName: "web-01", reason: .badRequest, message: "bad", at: Self.now - 10)])

        let retired = try #require(try db.retire(host: "web-01", at: Self.now, by: "operator alice (uid 0)", reason: "decommissioned"))
        #expect(retired.revokedSerials == ["0A"] && retired.listenersClosed == 2 && retired.findingsClosed == 1 && retired.hadReported)
        #expect(db.isRevoked(serial: "0A") && !db.isRevoked(serial: "0B"))
        let host = try #require(try db.host(named: "web-01"))
        #expect(host.retiredAt == Self.now && host.retiredBy == "operator alice (uid 0)" && host.retiredReason == "decommissioned")
        #expect(try db.openListeners(host: "web-01").isEmpty)
        #expect(try db.openFindings(host: "web-01").isEmpty)
        let findings = try db.findingHistory(host: "web-01")
        #expect(findings.count == 1 && findings.allSatisfy { $0.closed == Self.now && $0.closedAs == ClosedAs.retired })
        try db.forEachListenerInterval(since: 0, until: .max) { name, interval in
            #expect(name == "db-01" ? interval.closed == nil : interval.closedAs == ClosedAs.retired, "\(name) \(interval.port)")
        }
        #expect(try db.openListeners(host: "db-01").count == 2, "others untouched")
        #expect(try db.openFindings(host: "db-01").count == 1, "others untouched")
        #expect(try db.currentRefusals()["web-01"] == nil, "a retired host is not refusing")
        #expect(try db.hostCounts(now: Self.now, staleAfter: 900) == (all: 1, stale: 0, refusing: 0), "out of /metrics' fleet")
        let audit = try db.auditEntries(since: Self.now)
        #expect(audit.contains { $0.action == .hostRetired && $0.host == "web-01" && $0.actor == "operator alice (uid 0)"
            && $0.detail.contains("reason: decommissioned") && $0.detail.contains("1 finding") })
        #expect(audit.contains { $0.action == .certificateRevoked && $0.host == "web-01" && $0.detail.contains("0A") })

        #expect(try db.retire(host: "nobody", at: Self.now, by: "operator", reason: nil) == nil, "an unknown name is nil")

        // Again, later: the first retirement stays as it was; a certificate issued since is revoked.
        try sign(db, "web-01", serial: "0E", at: Self.now + 50)
        let again = try #require(try db.retire(host: "web-01", at: Self.now + 100, by: "operator bob (uid 0)", reason: "typo"))
        #expect(again.alreadyRetired && again.at == Self.now && again.revokedSerials == ["0E"] && again.listenersClosed == 0)
        #expect(try db.host(named: "web-01")?.retiredReason == "decommissioned" && db.isRevoked(serial: "0E"))
    }

    @Test(arguments: StoreMaker.all) func aForgottenNameNeedsApprovalAndReportsAgainAsANewLife(_ store: StoreMaker) async throws {
        let db = try await store.make()
        try db.rotateSecret(digest: "d", at: 0, by: "test")
        let secret = try #require(try db.credential(digest: "d")?.id)
        try sign(db, "web-01", serial: "0A", at: Self.now - 1_000)
        try report(db, "web-01", 1, collected: Self.now - 500, received: Self.now - 500)
        _ = try db.retire(host: "web-01", at: Self.now, by: "operator", reason: nil)

        // Still on a connection opened before the revocation: nothing is kept.
        #expect(try report(db, "web-01", 2, collected: Self.now + 5, received: Self.now + 5) == .duplicate)
        #expect(try db.host(named: "web-01")?.retiredAt == Self.now)
        #expect(try db.openListeners(host: "web-01").isEmpty)

        // The name held a certificate: the secret alone does not give it back.
        let outcome = try db.enroll(EnrollmentAttempt(host: "web-01", keyFingerprint: "new-key", credentialID: secret, address: "192.0.2.1",
                                                      policyReasons: [], requestTTL: 86_400, now: Self.now + 10)) {
            IssuedCertificate(serial: "0C", hostName: "web-01", fingerprint: "c", notAfter: Self.now + 86_400, issuedAt: Self.now + 10)
        }
        guard case .pending = outcome else { Issue.record("not waiting for an operator: \(outcome)"); return }

        // Approved (an operator's certificate), it reports: a new life; the retired history stays.
        try sign(db, "web-01", serial: "0D", at: Self.now + 20)
        // But first the snapshot it spooled before its retirement: that was the old life.
        #expect(try report(db, "web-01", 2, collected: Self.now - 60, received: Self.now + 25) == .duplicate)
        #expect(try report(db, "web-01", 2, collected: Self.now, received: Self.now + 26) == .duplicate, "its second: the old life")
        #expect(try db.host(named: "web-01")?.retiredAt == Self.now, "a snapshot from before the retirement does not bring it back")
        #expect(try db.openListeners(host: "web-01").isEmpty)
        #expect(try report(db, "web-01", 3, collected: Self.now + 30, received: Self.now + 30) == .changed(opened: 2, closed: 0))
        let host = try #require(try db.host(named: "web-01"))
        #expect(host.retiredAt == nil && host.retiredReason == nil && host.firstReceived == Self.now - 500)
        #expect(try db.openListeners(host: "web-01").allSatisfy { $0.opened == Self.now + 30 })
        let findings = try db.findingHistory(host: "web-01")
        #expect(findings.map(\.closedAs) == [ClosedAs.retired, nil], "the retired finding stays retired; a new one opened")
        #expect(try db.auditEntries(since: Self.now).contains { $0.action == .hostReturned && $0.actor == "certificate 0D" })
    }

    @Test(arguments: StoreMaker.all) func anIntervalDatedAheadClosesNoEarlierThanItOpened(_ store: StoreMaker) async throws {
        let db = try await store.make()
        try report(db, "fast-01", 1, collected: Self.now + 200, received: Self.now)
        let retired = try #require(try db.retire(host: "fast-01", at: Self.now, by: "operator", reason: nil))
        #expect(retired.revokedSerials.isEmpty && retired.listenersClosed == 2)
        #expect(try db.findingHistory(host: "fast-01").allSatisfy { $0.closed == Self.now + 200 })
    }
}
