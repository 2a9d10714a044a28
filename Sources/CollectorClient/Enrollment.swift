import FoundationEssentials

/// What the collector answered an enrollment.
public enum EnrollmentResult: Sendable, Equatable {
    /// The host's certificate and the fleet CA, both PEM.
    case issued(certificate: String, ca: String)
    /// The name is held by a valid certificate: an operator must approve.
    case pending(String)
}

public struct EnrollmentRefused: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let message: String
    public var description: String { "the collector refused the enrollment (\(status)): \(message)" }
}

extension CollectorConnection {
    /// Sends `csr` with the enrollment secret. The connection's context should trust the
    /// fleet CA and present no certificate: the host has none yet.
    public func enroll(csr: String, secret: String) throws -> EnrollmentResult {
        struct Asked: Encodable { var csr: String; var secret: String }
        struct Reply: Decodable { var status: String; var certificate: String?; var ca: String?; var message: String? }
        let response = try post("/v1/enroll", body: Array(try JSONEncoder().encode(Asked(csr: csr, secret: secret))))
        guard response.status == 200 || response.status == 202 else {
            throw EnrollmentRefused(status: response.status, message: response.text)
        }
        let reply = try JSONDecoder().decode(Reply.self, from: Data(response.body))
        if reply.status == "issued", let certificate = reply.certificate, let ca = reply.ca {
            return .issued(certificate: certificate, ca: ca)
        }
        return .pending(reply.message ?? "waiting for an operator's approval")
    }
}
