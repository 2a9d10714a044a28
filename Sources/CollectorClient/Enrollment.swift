import FoundationEssentials
import OpenSSLTLS

/// What the collector answered an enrollment.
public enum EnrollmentResult: Sendable, Equatable {
    /// The host's certificate and the fleet CA, both PEM.
    case issued(certificate: String, ca: String)
    /// The name needs an operator to approve this key; the message says how.
    case pending(String)
}

public struct EnrollmentRefused: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let message: String
    /// Seconds the collector asked to wait (429), if it said.
    public let retryAfter: Int?
    public var description: String { "the collector refused (\(status)): \(message)" }
}

extension CollectorConnection {
    /// Sends `csr` with the enrollment secret or a token (the collector tells them apart
    /// by their digests; the field only says which the host meant). The connection's
    /// context should trust the fleet CA and present no certificate: the host has none yet.
    public func enroll(csr: String, secret: String? = nil, token: String? = nil) throws -> EnrollmentResult {
        struct Asked: Encodable { var csr: String; var secret: String?; var token: String? }
        return try askForCertificate("/v1/enroll", Asked(csr: csr, secret: secret, token: token)).result
    }

    /// Sends `csr` (a new key, the same name) over mutual TLS with the host's current
    /// certificate: the connection's context must present it. The answer is the new
    /// certificate and the fleet CA bundle, and the server certificate of the connection
    /// they came over (to check them against); a refusal throws `EnrollmentRefused`.
    public func renew(csr: String) throws -> (certificate: String, ca: String, server: Certificate?) {
        struct Asked: Encodable { var csr: String }
        let (result, server, retryAfter) = try askForCertificate("/v1/renew", Asked(csr: csr))
        guard case .issued(let certificate, let ca) = result else {
            // A collector without the CA key queued it for the one that signs: ask again with the same key.
            let message = if case .pending(let message) = result { message } else { "" }
            throw EnrollmentRefused(status: 202, message: message.isEmpty ? "the collector did not answer with a certificate" : message,
                                    retryAfter: retryAfter)
        }
        return (certificate, ca, server)
    }

    /// The fleet CA bundle the collector trusts now (`GET /v1/ca`, over mutual TLS), and
    /// the server certificate of the connection it came over.
    public func caBundle() throws -> (pem: String, server: Certificate?) {
        let (response, server) = try exchange("GET", "/v1/ca")
        guard response.status == 200 else {
            throw RequestFailed(reached: true, reason: "the collector answered \(response.status) to GET /v1/ca: "
                                + quoted(response.body.prefix(200)))
        }
        return (response.text, server)
    }

    private struct CertificateReply: Decodable { var status: String; var certificate: String?; var ca: String?; var message: String? }

    private func askForCertificate(_ path: String, _ asked: some Encodable) throws
        -> (result: EnrollmentResult, server: Certificate?, retryAfter: Int?)
    {
        let (response, server) = try exchange("POST", path, body: Array(try JSONEncoder().encode(asked)),
                                              headers: ["Content-Type": "application/json"])
        guard response.status == 200 || response.status == 202 else {
            throw EnrollmentRefused(status: response.status, message: String(response.text.reversed().drop { $0.isWhitespace }.reversed()),
                                    retryAfter: response.headers["retry-after"].flatMap { Int($0) })
        }
        let reply = try JSONDecoder().decode(CertificateReply.self, from: Data(response.body))
        if reply.status == "issued", let certificate = reply.certificate, let ca = reply.ca {
            return (.issued(certificate: certificate, ca: ca), server, nil)
        }
        return (.pending(reply.message ?? "waiting for an operator's approval"), server,
                response.headers["retry-after"].flatMap { Int($0) })
    }
}
