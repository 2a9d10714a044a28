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

/// The CA key on one signing collector: a collector without it, sharing the PostgreSQL
/// database, queues what it admits, and the signing collector decides and signs it.
struct SigningCollectorTests {
    static let secret = "correct horse battery staple"

    /// A collector with the key (signing for the others) and one without, on one database.
    static func collectors(_ pki: TestPKI, url: String, signer: Bool = true) async throws
        -> (signing: RunningCollector?, relaying: RunningCollector, store: any HistoryStore)
    {
        let signingStore = try await blocking { try HistoryStores.open(url) }
        let relayingStore = try await blocking { try HistoryStores.open(url) }
        let queue = try #require(relayingStore as? any SigningQueue)
        let relaying = try await RunningCollector.start(
            pki: pki, database: relayingStore, enrollmentSecret: secret,
            enrollment: .init(signingElsewhere: pki.ca.certificate, queue: queue, bundle: try pki.ca.certificate.pem()))
        let signing = signer ? try await signingCollector(pki, signingStore) : nil
        return (signing, relaying, signingStore)
    }

    static func signingCollector(_ pki: TestPKI, _ store: any HistoryStore) async throws -> RunningCollector {
        try await RunningCollector.start(pki: pki, database: store,
                                         enrollment: .init(ca: pki.ca, signingQueue: try #require(store as? any SigningQueue)))
    }

    static func enroll(_ pki: TestPKI, _ collector: RunningCollector, _ key: PrivateKey, name: String = "web-01") async throws
        -> EnrollmentResult
    {
        let csr = try CertificateRequest(key: key, commonName: name).pem()
        let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: try pki.clientContext(nil),
                                             timeout: 15)
        return try await blocking { try connection.enroll(csr: csr, secret: secret) }
    }

    /// Asks again while the answer is 503 (no signing collector yet), as an agent would later.
    static func enrollOnceSigning(_ pki: TestPKI, _ collector: RunningCollector, _ key: PrivateKey) async throws -> EnrollmentResult? {
        for _ in 0..<20 {
            do { return try await enroll(pki, collector, key) } catch let error as EnrollmentRefused where error.status == 503 {
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        return nil
    }

    @Test func aCollectorWithoutTheKeyEnrollsAndRenewsThroughTheSigningOne() async throws {
        let pki = try TestPKI()
        let (signing, relaying, store) = try await Self.collectors(pki, url: try await TestPostgres.freshDatabase())
        defer { signing?.stop(); relaying.stop() }
        let key = try PrivateKey.generate()
        guard case .issued(let pem, let bundle) = try await Self.enroll(pki, relaying, key) else {
            Issue.record("not issued through the collector without the key"); return
        }
        let certificate = try Certificate(pem: pem)
        #expect(certificate.commonName == "web-01" && certificate.isFor(key) && certificate.isSigned(by: pki.ca.certificate))
        #expect(try Certificate(pem: bundle).fingerprint == pki.ca.certificate.fingerprint)
        #expect(try store.auditEntries(since: 0).filter { $0.action == .enrollIssued }.count == 1)

        // Renewal over mutual TLS with that certificate, to the collector without the key.
        let next = try PrivateKey.generate()
        let csr = try CertificateRequest(key: next, commonName: "web-01").pem()
        let enrolled = CollectorConnection(host: "127.0.0.1", port: UInt16(relaying.port), context: try TLSContext.client(
            trust: pki.ca.certificate, certificate: certificate, key: key), timeout: 15)
        let renewed = try Certificate(pem: try await blocking { try enrolled.renew(csr: csr) }.certificate)
        #expect(renewed.isFor(next) && renewed.commonName == "web-01" && renewed.serial != certificate.serial)

        // A decision that issues nothing is the collector's own: the held name waits for an operator.
        let other = try await Self.enroll(pki, relaying, try PrivateKey.generate())
        guard case .pending(let message) = other else { Issue.record("a held name was issued: \(other)"); return }
        #expect(message.contains("needs an operator"), "\(message)")
    }

    /// No signing collector: 503 with Retry-After, the request kept; once one starts it
    /// signs what waited, and the host asking again with the same key gets it.
    @Test func withoutASigningCollectorTheRequestWaitsForOne() async throws {
        let pki = try TestPKI()
        let url = try await TestPostgres.freshDatabase()
        let (_, relaying, store) = try await Self.collectors(pki, url: url, signer: false)
        defer { relaying.stop() }
        let key = try PrivateKey.generate()
        let refused = await #expect(throws: EnrollmentRefused.self) { try await Self.enroll(pki, relaying, key) }
        #expect(refused?.status == 503 && refused?.retryAfter == 60, "\(String(describing: refused))")
        #expect(refused?.message.contains("no signing collector is running") == true)

        let signing = try await Self.signingCollector(pki, store)
        defer { signing.stop() }
        let result = try await Self.enrollOnceSigning(pki, relaying, key)
        guard case .issued(let pem, _) = result else { Issue.record("never issued: \(String(describing: result))"); return }
        #expect(try Certificate(pem: pem).isFor(key))
        #expect(try store.auditEntries(since: 0).filter { $0.action == .enrollIssued }.count == 1, "signed once")
    }

    /// Whatever a host puts in its request, the signing collector decides it again: a
    /// name revoked between the queueing and the signing is not issued.
    @Test func theSigningCollectorDecidesAgainAtSigning() async throws {
        let pki = try TestPKI()
        let url = try await TestPostgres.freshDatabase()
        let (_, relaying, store) = try await Self.collectors(pki, url: url, signer: false)
        defer { relaying.stop() }
        let key = try PrivateKey.generate()
        _ = await #expect(throws: EnrollmentRefused.self) { try await Self.enroll(pki, relaying, key) }
        // Meanwhile an operator tags the name: from now on it waits for an operator.
        _ = try store.tag(host: "web-01", "pci", at: Int64(Date().timeIntervalSince1970), by: "alice")
        let signing = try await Self.signingCollector(pki, store)
        defer { signing.stop() }
        let result = try await Self.enrollOnceSigning(pki, relaying, key)
        guard case .pending(let message) = result else { Issue.record("issued a name tagged meanwhile: \(String(describing: result))"); return }
        #expect(message.contains("needs an operator"), "\(message)")
        #expect(try store.auditEntries(since: 0).filter { $0.action == .enrollIssued }.isEmpty)
    }

    /// What the signing collector decides on that the admitting one could not know, or
    /// should not be trusted for: a renewal whose certificate ended while it was queued is
    /// refused; a request older than an hour is left (dropped); an enrollment is held by
    /// the signing collector's policy too.
    @Test func theSigningCollectorChecksTimeAndItsOwnPolicy() throws {
        let now: Int64 = 1_800_000_000
        let renewal = SigningRequest(kind: .renew, host: "web-01", keyFingerprint: "k", csr: "", address: nil, requestedAt: now - 60,
                                     presented: "0A", presentedUntil: now - 1)
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let renew = RenewRoutes(database: database, enrollment: .init(ca: pki.ca), desk: SigningDesk(queue: nil, logger: PolicyIngestTests.quiet),
                                metrics: CollectorMetrics(), logger: PolicyIngestTests.quiet)
        let csr = try CertificateRequest(key: try PrivateKey.generate(), commonName: "web-01")
        let refused = #expect(throws: HTTPFailure.self) { try renew.decide(renewal, csr, now: now) }
        #expect(refused?.status == .forbidden && refused?.message.contains("expired") == true, "\(String(describing: refused))")
        #expect(try database.auditEntries(since: 0).map(\.action) == [.renewalRefused], "audited as the other refusals are")
        var current = renewal
        current.presentedUntil = now + 60
        #expect(SigningLoop.stillAsked(current, now: now, policy: nil) == current)
        current.requestedAt = now - SigningLoop.keepFor - 1
        #expect(SigningLoop.stillAsked(current, now: now, policy: nil) == nil, "asked over an hour ago")

        // The shipped policy: its inventory tags vms-* OpenVMS.
        let holder = PolicyHolder(directory: PolicyIngestTests.shipped, metrics: CollectorMetrics(), logger: PolicyIngestTests.quiet)
        #expect(holder.reload(), "the shipped policy loads")
        let enrollment = SigningRequest(kind: .enroll, host: "vms-gw-08", keyFingerprint: "k", csr: "", address: nil,
                                        requestedAt: now, credentialID: 1, policyReasons: [])
        let decided = try #require(SigningLoop.stillAsked(enrollment, now: now, policy: holder))
        #expect(!decided.policyReasons.isEmpty, "held by the signing collector's inventory though the other's policy said nothing")
    }
}
