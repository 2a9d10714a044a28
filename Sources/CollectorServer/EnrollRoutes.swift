import CollectorStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OpenSSLTLS

/// `POST /v1/enroll`: a host sends its CSR and the fleet's enrollment secret over
/// server-authenticated TLS and gets back its certificate. The key never leaves the
/// host; the collector names it (the CSR's common name, checked); a name that already
/// holds a valid certificate waits for `portwarden enroll approve`, so the secret alone
/// cannot take over another host's identity.
struct EnrollRoutes {
    let database: CollectorDatabase
    let enrollment: CollectorApplication.Enrollment
    let metrics: CollectorMetrics
    let logger: Logger
    /// A CSR and a secret: a few KiB. Also all a client without a certificate may send.
    static let maxRequestBytes = 64 << 10

    struct Asked: Decodable {
        var csr: String
        var secret: String
    }

    struct Answer: Encodable {
        var status: String
        var host: String
        var certificate: String?
        var ca: String?
        var message: String?
    }

    func add(to routes: inout Routes) {
        routes.add(.POST, "/v1/enroll", .blocking) { request in
            do {
                return try enroll(request)
            } catch let failure as HTTPFailure {
                metrics.refused(failure.status == .forbidden ? "enrollment_secret" : "enrollment_request")
                throw failure
            }
        }
    }

    func enroll(_ request: CollectorRequest) throws -> Reply {
        guard let secret = enrollment.secret else {
            throw HTTPFailure(.forbidden, message: "enrollment by secret is off here: ask an operator to run `portwarden enroll sign`")
        }
        guard request.body.readableBytes <= Self.maxRequestBytes else {
            throw HTTPFailure(.payloadTooLarge, message: "an enrollment request is at most 64 KiB")
        }
        let asked: Asked
        do { asked = try JSONDecoder().decode(Asked.self, from: Data(request.body.readableBytesView)) } catch {
            throw HTTPFailure(.badRequest, message: "expected {\"csr\": PEM, \"secret\": …}: \(error)")
        }
        guard Self.constantTimeEqual(Array(asked.secret.utf8), Array(secret.utf8)) else {
            logger.warning("enrollment with a wrong secret refused")
            throw HTTPFailure(.forbidden, message: "wrong enrollment secret")
        }
        let csr: CertificateRequest
        do { csr = try CertificateRequest(pem: asked.csr) } catch {
            throw HTTPFailure(.badRequest, message: "not a certificate request: \(error)")
        }
        guard csr.isSelfSigned else { throw HTTPFailure(.badRequest, message: "the request's signature does not verify") }
        guard let name = csr.commonName, EnrollmentNames.isHostName(name) else {
            throw HTTPFailure(.badRequest, message: "the request must name the host (CN): letters, digits, '-', '.', at most 253")
        }
        let now = Int64(Date().timeIntervalSince1970)
        let key = csr.keyFingerprint
        switch try database.decideEnrollment(host: name, keyFingerprint: key, now: now) {
        case .pending:
            logger.warning("enrollment waits for approval", metadata: ["host": "\(name)"])
            return try Self.reply(.accepted, Answer(
                status: "pending", host: name,
                message: "\(name) already holds a valid certificate: an operator must approve (portwarden enroll approve \(name))"))
        case let decision:
            let certificate = try enrollment.ca.issue(csr, commonName: name, usage: .client, days: enrollment.days)
            try database.recordEnrolled(IssuedCertificate(serial: certificate.serial, hostName: name,
                                                                fingerprint: certificate.fingerprint,
                                                                notAfter: certificate.notAfter, issuedAt: now),
                                              keyFingerprint: key, replacing: decision == .issueReplacing)
            logger.info("enrolled", metadata: ["host": "\(name)", "serial": "\(certificate.serial)"])
            return try Self.reply(.ok, Answer(
                status: "issued", host: name, certificate: try certificate.pem(), ca: try enrollment.ca.certificate.pem()))
        }
    }

    static func reply(_ status: HTTPResponseStatus, _ answer: Answer) throws -> Reply {
        .json(try JSONEncoder().encode(answer), status: status)
    }

    /// Compares without returning early, so timing does not reveal the secret.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// The names enrollment accepts for a host.
public enum EnrollmentNames {
    /// Host names as DNS writes them: letters, digits, '-' and '.', at most 253 bytes.
    public static func isHostName(_ name: String) -> Bool {
        (1...253).contains(name.utf8.count) && !name.hasPrefix("-") && !name.hasPrefix(".")
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2D || $0 == 0x2E }
    }
}
