import CollectorClient
import Glibc
import OpenSSLTLS
import PortwardenModel
import StateFiles

/// This host's certificate renewal: due when a third of its lifetime is left; done
/// over mutual TLS with the current certificate, for a new key (`AgentState+Renewal`
/// keeps it crash-safe). The old certificate works until the new one is first used.
public struct Renewal: Sendable {
    public let state: AgentState

    public init(state: AgentState) { self.state = state }

    /// The certificate in force, as the agent holds it.
    public func certificate() throws -> Certificate {
        do { return try Certificate(pem: StateFile.read(state.certificatePath, followingLinks: false)) } catch {
            throw AgentStateError("no host certificate at \(state.certificatePath): enroll this host first (portwarden-agent enroll)")
        }
    }

    /// A renewal queued for the signing collector (202) is asked again once when the
    /// collector says to within this many seconds; otherwise at the next cycle.
    static let askAgainWithin = 10

    /// When `certificate` is due for renewal: a third of its lifetime before it ends.
    public static func due(_ certificate: Certificate) -> Int64 {
        certificate.notAfter - (certificate.notAfter - certificate.notBefore) / 3
    }

    /// Why `certificate` can no longer be renewed — it has ended, and the collector
    /// refuses an expired certificate — with what to do; nil while it is valid.
    public static func expiry(_ certificate: Certificate, now: Int64 = Int64(time(nil))) -> String? {
        guard now >= certificate.notAfter else { return nil }
        return "the host certificate (serial \(certificate.serial)) expired at \(Timestamp.rfc3339(certificate.notAfter)), "
            + "and an expired certificate cannot renew: enroll this host again (portwarden-agent enroll --force with a "
            + "secret or token; the name is held, so an operator approves it)"
    }

    /// Renews now through `connection` (which must present the current certificate);
    /// the new certificate, installed. A refusal throws `EnrollmentRefused`; no answer,
    /// `RequestFailed`; an answer the agent will not install (`TrustCheck`),
    /// `TrustRefused`: either way the old pair and bundle are still in place.
    @discardableResult
    public func renew(through connection: CollectorConnection) throws -> Certificate {
        let current = try certificate()
        guard let name = current.commonName else { throw AgentStateError("\(state.certificatePath) names no host") }
        let key = try state.renewalKey()
        let request = try CertificateRequest(key: key, commonName: name)
        let answer: (certificate: String, ca: String, server: Certificate?)
        do {
            answer = try connection.renew(csr: request.pem())
        } catch let queued as EnrollmentRefused where queued.status == 202 && (queued.retryAfter ?? 0) <= Self.askAgainWithin {
            // Queued for the collector that holds the CA key: its answer is usually there within seconds.
            sleep(UInt32(max(1, queued.retryAfter ?? 1)))
            answer = try connection.renew(csr: request.pem())
        }
        return try install(certificate: answer.certificate, bundle: answer.ca, server: answer.server, key: key, name: name,
                           now: Int64(time(nil)))
    }

    /// Checks a renewal's answer, which came over a connection whose server presented
    /// `server`, and installs it; the new certificate.
    public func install(certificate pem: String, bundle bundlePEM: String, server: Certificate?, key: PrivateKey, name: String,
                 now: Int64) throws -> Certificate {
        let check = try TrustCheck(server: server, trusted: state.trustedCAs(), now: now)
        let bundle = try check.bundle(bundlePEM)
        let renewed = try check.certificate(pem, for: key, name: name, bundle: bundle)
        try state.install(certificate: renewed.pem(), bundle: bundle.map { try $0.pem() }.joined())
        return renewed
    }
}
