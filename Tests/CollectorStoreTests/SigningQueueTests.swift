import CollectorStore
import Foundation
import PortwardenTestSupport
import Testing

/// The queue between collectors without the CA key and the signing collector (PostgreSQL only).
struct SigningQueueTests {
    static func request(_ host: String, key: String, at now: Int64 = 1_800_000_000) -> SigningRequest {
        SigningRequest(kind: .renew, host: host, keyFingerprint: key, csr: "PEM", address: "192.0.2.1", requestedAt: now,
                       presented: "0A")
    }

    @Test func aRequestIsAnsweredOnceToWhoeverAsksAndANameHoldsFewAtOnce() async throws {
        let url = try await TestPostgres.freshDatabase()
        let relaying = try #require(try HistoryStores.open(url) as? any SigningQueue)
        let signing = try #require(try HistoryStores.open(url) as? any SigningQueue)
        for key in ["k1", "k2", "k3", "k4"] { #expect(try relaying.queueSigning(Self.request("web-01", key: key), maxPerName: 4)) }
        #expect(try relaying.queueSigning(Self.request("web-01", key: "k1"), maxPerName: 4), "the same request again: still queued")
        #expect(try !relaying.queueSigning(Self.request("web-01", key: "k5"), maxPerName: 4), "a fifth key for the name")
        #expect(try relaying.queueSigning(Self.request("db-01", key: "k5"), maxPerName: 4), "another name is not held up")
        #expect(try relaying.signingProgress(.renew, host: "web-01", keyFingerprint: "k1") == .waiting)
        #expect(try relaying.signingProgress(.enroll, host: "web-01", keyFingerprint: "k1") == .none, "kinds apart")

        #expect(try !relaying.signerIsRunning())
        #expect(signing.holdsSigning())
        #expect(try relaying.signerIsRunning(), "seen from the other collector")
        #expect(!relaying.holdsSigning(), "one signer at a time")

        let waiting = try signing.waitingSigning(limit: 10, droppingBefore: 1_800_000_000 - 3_600)
        #expect(waiting.map(\.keyFingerprint) == ["k1", "k2", "k3", "k4", "k5"])
        #expect(waiting.first.map { var r = $0; r.id = 0; return r } == Self.request("web-01", key: "k1"), "read back whole")
        let answer = SigningAnswer(status: 200, contentType: "application/json", body: Data("{}".utf8))
        try signing.answerSigning(id: waiting[0].id, answer, at: 1_800_000_001)
        #expect(try signing.waitingSigning(limit: 10, droppingBefore: 1_800_000_000 - 3_600).count == 4)
        #expect(try relaying.signingProgress(.renew, host: "web-01", keyFingerprint: "k1") == .answered(answer))
        #expect(try signing.signingProgress(.renew, host: "web-01", keyFingerprint: "k1") == .none, "taken once")

        // An hour on, what nobody answered or took is gone: its hosts have asked again.
        try signing.answerSigning(id: waiting[1].id, answer, at: 1_800_003_602)
        #expect(try signing.waitingSigning(limit: 10, droppingBefore: 1_800_003_602 - 3_600).isEmpty)
        #expect(try relaying.signingProgress(.renew, host: "web-01", keyFingerprint: "k2") == .answered(answer), "just answered")
        #expect(try relaying.signingProgress(.renew, host: "web-01", keyFingerprint: "k3") == .none, "dropped unanswered")
    }
}

/// What the signing collector records for a request and the answer it leaves commit together.
struct SigningTransactionTests {
    struct Interrupted: Error {}

    @Test func theStoresWritesInsideOneTransactionCommitTogetherOrNotAtAll() async throws {
        let url = try await TestPostgres.freshDatabase()
        let store = try HistoryStores.open(url)
        let queue = try #require(store as? any SigningQueue)
        #expect(throws: Interrupted.self) {
            try queue.inOneTransaction {
                try store.tag(host: "web-01", "pci", at: 1, by: "alice")
                throw Interrupted()  // as a signing collector dying before the answer is stored
            }
        }
        #expect(try store.assignedTags().isEmpty, "nothing of it stayed")
        try queue.inOneTransaction {
            try store.tag(host: "web-01", "pci", at: 1, by: "alice")
            try store.tag(host: "web-02", "sox", at: 1, by: "alice")
        }
        #expect(try store.assignedTags() == ["pci", "sox"])
        try store.tag(host: "web-03", "pos", at: 1, by: "alice")
        #expect(try store.assignedTags().count == 3, "and writes outside it are their own again")
    }
}

/// An audit entry quotes what a client sent: a NUL in it (a CSR's name) is stored as U+FFFD,
/// on PostgreSQL too, whose text cannot hold one; the refusal is recorded, not a failure.
struct AuditTextTests {
    @Test(arguments: StoreMaker.all) func aNulInAnAuditedNameIsStoredAsReplacement(_ store: StoreMaker) async throws {
        let db = try await store.make()
        try db.audit(AuditEntry(at: 1, action: .enrollRefused, actor: "unknown credential", host: "h1\u{0}evil",
                                address: "192.0.2.1", detail: "the CN \u{0}"))
        let entry = try #require(try db.auditEntries(since: 0).first)
        #expect(entry.host?.contains("\u{0}") != true && entry.host?.hasPrefix("h1") == true, "\(String(describing: entry.host))")
    }
}
