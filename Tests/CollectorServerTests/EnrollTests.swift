import CollectorClient
import CollectorServer
import CollectorStore
import CollectorTestSupport
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Enrollment over server-authenticated TLS with the fleet's shared secret.
struct EnrollTests {
    static let secret = "correct horse battery staple"

    /// A host without a certificate yet: it trusts the fleet CA and presents nothing.
    func newcomer(_ pki: TestPKI, _ port: Int) throws -> CollectorConnection {
        CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try pki.clientContext(nil), timeout: 5)
    }

    func enroll(_ connection: CollectorConnection, name: String, secret: String = secret) async throws
        -> (EnrollmentResult, PrivateKey)
    {
        let key = try PrivateKey.generate()
        let csr = try CertificateRequest(key: key, commonName: name).pem()
        return (try await blocking { try connection.enroll(csr: csr, secret: secret) }, key)
    }

    @Test func aHostEnrollsWithTheSecretAndReportsWithItsNewCertificate() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollmentSecret: Self.secret)
        defer { collector.stop() }
        let (result, key) = try await enroll(try newcomer(pki, collector.port), name: "web-01")
        guard case .issued(let pem, let ca) = result else { Issue.record("not issued: \(result)"); return }
        let certificate = try Certificate(pem: pem)
        #expect(certificate.commonName == "web-01")
        #expect(try Certificate(pem: ca).fingerprint == pki.ca.certificate.fingerprint)

        let enrolled = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: try TLSContext.client(
            trust: pki.ca.certificate, certificate: certificate, key: key), timeout: 5)
        let report = try await blocking { try enrolled.post("/v1/reports", body: ReportTests.snapshot(host: "web-01")) }
        #expect(report.status == 200)
    }

    @Test func aWrongSecretIsRefused() async throws {
        let pki = try TestPKI()
        let collector = try await RunningCollector.start(pki: pki, database: try CollectorDatabase.inMemory(),
                                                         enrollmentSecret: Self.secret)
        defer { collector.stop() }
        let error = await #expect(throws: EnrollmentRefused.self) {
            try await enroll(try newcomer(pki, collector.port), name: "web-01", secret: "guess")
        }
        #expect(error?.status == 403)
    }

    @Test func withoutASecretOnlyOperatorsEnroll() async throws {
        let pki = try TestPKI()
        let collector = try await RunningCollector.start(pki: pki, database: try CollectorDatabase.inMemory())
        defer { collector.stop() }
        let error = await #expect(throws: EnrollmentRefused.self) { try await enroll(try newcomer(pki, collector.port), name: "web-01") }
        #expect(error?.message.contains("enroll sign") == true)
    }

    @Test func theSecretCannotTakeOverAHeldNameUntilAnOperatorApprovesThatKey() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollmentSecret: Self.secret)
        defer { collector.stop() }
        let connection = try newcomer(pki, collector.port)
        guard case (.issued(let firstPEM, _), _) = try await enroll(connection, name: "openvms-01") else {
            Issue.record("first enrollment not issued")
            return
        }
        let first = try Certificate(pem: firstPEM)

        // Another key asks for the same name: it waits, and says which key to approve.
        let key = try PrivateKey.generate()
        let request = try CertificateRequest(key: key, commonName: "openvms-01")
        let waiting = try await blocking { try connection.enroll(csr: try request.pem(), secret: Self.secret) }
        guard case .pending(let message) = waiting else { Issue.record("took over a held name: \(waiting)"); return }
        #expect(message.contains("portwarden enroll approve openvms-01 --fingerprint \(request.keyFingerprint.prefix(16))"), "\(message)")
        #expect(!database.isRevoked(serial: first.serial))

        // The operator approves this key; it asks again and gets the name; the old one is revoked.
        let approved = try database.approveRequest(host: "openvms-01", fingerprint: String(request.keyFingerprint.prefix(8)),
                                                   now: Self.now, ttl: 3_600, by: "test")
        #expect((try? approved.get())?.keyFingerprint == request.keyFingerprint)
        let again = try await blocking { try connection.enroll(csr: try request.pem(), secret: Self.secret) }
        guard case .issued(let pem, _) = again else { Issue.record("not issued after approval: \(again)"); return }
        #expect(try Certificate(pem: pem).commonName == "openvms-01")
        #expect(database.isRevoked(serial: first.serial))
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970) }
}
