import CollectorStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OpenSSLTLS
import PortwardenModel

/// `POST /v1/renew`: a host sends a CSR for a new key over mutual TLS with its current
/// certificate and gets back a certificate for the same name, and the fleet CA bundle.
/// No secret, no operator: the presented certificate is the proof, so only the name's
/// current one renews — not a revoked one, not an expired one, not one already renewed
/// (a predecessor still in its overlap), not one of a forgotten host (its certificates are revoked). The
/// name is the certificate's; a CSR naming another, or carrying the same key, is
/// refused. Runs on the thread pool: decision, signing and record are one transaction; a
/// collector without the CA key has its signing collector decide again and sign.
struct RenewRoutes {
    let database: any HistoryStore
    let enrollment: CollectorApplication.Enrollment
    /// Where a collector without the CA key has the signing collector sign (one per collector).
    let desk: SigningDesk
    let metrics: CollectorMetrics
    let logger: Logger

    struct Asked: Decodable {
        var csr: String
    }

    func add(to routes: inout Routes) {
        routes.add(.POST, "/v1/renew", .blocking) { request in
            do {
                return try renew(request)
            } catch let failure as HTTPFailure {
                metrics.refused("renewal")
                throw failure
            }
        }
    }

    func renew(_ request: CollectorRequest) throws -> Reply {
        guard let peer = request.peer, let host = peer.host, let serial = peer.serial else {
            throw HTTPFailure(.unauthorized, message: "renewal needs the host's current certificate (mutual TLS); "
                              + "a host without one enrolls (portwarden-agent enroll)")
        }
        let from = request.remoteAddress.map { $0.mappedIPv4 ?? $0 }?.description
        let now = Int64(Date().timeIntervalSince1970)
        func refuse(_ status: HTTPResponseStatus, _ why: String) throws -> HTTPFailure {
            try database.audit(AuditEntry(at: now, action: .renewalRefused, actor: "certificate \(serial)", host: host,
                                          address: from, detail: why))
            logger.warning("renewal of \(host)'s certificate refused: \(why)", metadata: [
                "event": "renewal_refused", "host": "\(host)", "serial": "\(serial)", "reason": "\(why)"])
            return HTTPFailure(status, message: why)
        }
        // A kept-alive connection, or a resumed session, outlives the certificate it was
        // made with: an expired certificate renews no more (the host enrolls again).
        if let why = peer.outOfValidity(at: now) { throw try refuse(.forbidden, why) }
        guard request.body.readableBytes <= EnrollRoutes.maxRequestBytes else {
            throw HTTPFailure(.payloadTooLarge, message: "a renewal request is at most 64 KiB")
        }
        let csr: CertificateRequest
        do {
            let asked = try JSONDecoder().decode(Asked.self, from: Data(request.body.readableBytesView))
            csr = try CertificateRequest(pem: asked.csr)
        } catch {
            throw try refuse(.badRequest, "expected {\"csr\": PEM} with a certificate request: \(error)")
        }
        guard csr.isSelfSigned else { throw try refuse(.badRequest, "the request's signature does not verify") }
        if let advice = csr.keyRefusal { throw try refuse(.badRequest, advice) }
        let asked = csr.commonName.map { (try? HostName.normalized($0).get()) ?? $0 }
        guard asked == host else {
            throw try refuse(.forbidden, "the request names \(asked ?? "no host"), but this certificate is \(host)'s: "
                             + "a renewal keeps the name (a new name enrolls: portwarden-agent enroll --name)")
        }
        guard csr.keyFingerprint != peer.keyFingerprint else {
            throw try refuse(.badRequest, RenewalRefusal.sameKey.description)
        }
        let admitted = SigningRequest(kind: .renew, host: host, keyFingerprint: csr.keyFingerprint, csr: try csr.pem(),
                                      address: from, requestedAt: now, presented: serial, presentedUntil: peer.notAfter)
        return try desk.answer(admitted) { try decide(admitted, csr, now: now) }
    }

    /// Decides an admitted renewal and signs it: here, or on the signing collector for the
    /// collector that admitted it (`SigningLoop`). Refusals throw `HTTPFailure`.
    func decide(_ admitted: SigningRequest, _ csr: CertificateRequest, now: Int64) throws -> Reply {
        let (host, key, serial) = (admitted.host, admitted.keyFingerprint, admitted.presented ?? "")
        // Checked at the handshake too; here for a renewal the signing collector signs after
        // the certificate it was asked with has ended.
        if let until = admitted.presentedUntil, now > until {
            let why = "certificate \(serial) of \(host) expired at \(Timestamp.rfc3339(until)), before its renewal was signed: "
                + "this host must enroll again (an operator approves it)"
            try database.audit(AuditEntry(at: now, action: .renewalRefused, actor: "certificate \(serial)", host: host,
                                          address: admitted.address, detail: why))
            logger.warning("renewal of \(host)'s certificate refused: \(why)", metadata: [
                "event": "renewal_refused", "host": "\(host)", "serial": "\(serial)", "reason": "expired"])
            throw HTTPFailure(.forbidden, message: "\(host): \(why)")
        }
        var issuedPEM = ""
        let attempt = RenewalAttempt(presented: serial, host: host, keyFingerprint: key, address: admitted.address, now: now)
        let outcome = try database.renew(attempt) {
            let (certificate, pem) = try enrollment.issue(csr, name: host, at: now)
            issuedPEM = pem
            return certificate
        }
        switch outcome {
        case .success(let certificate):
            logger.info("renewed \(host)'s certificate", metadata: [
                "event": "renewed", "host": "\(host)", "serial": "\(certificate.serial)", "renews": "\(serial)"])
            return try EnrollRoutes.reply(.ok, EnrollRoutes.Answer(status: "issued", host: host, certificate: issuedPEM,
                                                                   ca: enrollment.bundle, fingerprint: key))
        case .failure(.throttled(let wait)):
            metrics.refused("renewal_throttled")
            logger.warning("renewal of \(host)'s certificate refused: too many renewals this hour", metadata: [
                "event": "renewal_refused", "host": "\(host)", "serial": "\(serial)", "reason": "throttled"])
            // Answered, not thrown: counted under its own reason, not as "renewal".
            return HTTPFailure(.tooManyRequests, headers: ["Retry-After": "\(wait)"],
                               message: "\(host): \(RenewalRefusal.throttled(retryAfter: wait))").reply
        case .failure(let refusal):
            logger.warning("renewal of \(host)'s certificate refused: \(refusal)", metadata: [
                "event": "renewal_refused", "host": "\(host)", "serial": "\(serial)", "reason": "\(refusal)"])
            let next = switch refusal {
            case .renewed: ""
            case .sameKey, .reusedKey: ": make a new key"
            default: ": this host must enroll again (an operator approves it)"
            }
            throw HTTPFailure(.forbidden, message: "\(host): \(refusal)\(next)")
        }
    }
}
