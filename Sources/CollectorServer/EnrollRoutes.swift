import CollectorStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OpenSSLCrypto
import OpenSSLTLS
import Policy
import PortwardenModel

/// `POST /v1/enroll`: a host sends its CSR and the enrollment secret or a token over
/// server-authenticated TLS and gets back its certificate. The key never leaves the
/// host; the collector names it (the CSR's common name in normal form). Runs on the
/// thread pool: the decision, the signing and the record are one transaction. A collector
/// without the CA key has its signing collector decide again and sign (`SigningDesk`).
///
/// In order: the source address's rate limit; the credential (a wrong one counts against
/// a smaller limit); the CSR, its key and its name; a token's names; then the store
/// decides — a name that ever held a certificate, that the policy singles out by name
/// (an inventory pattern, a waiver's host, a rule's `host.name` test) or that an operator
/// tagged, waits for an operator to approve this very key (`portwarden enroll approve
/// NAME --fingerprint FP`). Every refusal is audited with the name the CSR asked for.
struct EnrollRoutes {
    let database: any HistoryStore
    let enrollment: CollectorApplication.Enrollment
    /// Where a collector without the CA key has the signing collector sign (one per collector).
    let desk: SigningDesk
    let limiter: EnrollmentLimiter
    let policy: PolicyHolder?
    let metrics: CollectorMetrics
    let logger: Logger
    /// A CSR and a secret: a few KiB. Also all a client without a certificate may send.
    static let maxRequestBytes = 64 << 10

    struct Asked: Decodable {
        var csr: String
        var secret: String?
        var token: String?
    }

    struct Answer: Encodable {
        var status: String
        var host: String
        var certificate: String?
        var ca: String?
        var message: String?
        /// The key's SHA-256, what an operator approves; and when a waiting request lapses.
        var fingerprint: String?
        var expires: String?
    }

    func add(to routes: inout Routes) {
        routes.add(.POST, "/v1/enroll", .blocking) { request in
            do {
                return try enroll(request)
            } catch let failure as HTTPFailure {
                let reason = switch failure.status {
                case .forbidden: "enrollment_secret"
                case .tooManyRequests: "enrollment_rate"
                default: "enrollment_request"
                }
                metrics.refused(reason)
                throw failure
            }
        }
    }

    func enroll(_ request: CollectorRequest) throws -> Reply {
        let address = request.remoteAddress.map { $0.mappedIPv4 ?? $0 }  // as written on a dual-stack listener
        let from = address?.description
        if let wait = limiter.admit(address) {
            throw Self.tooMany(wait, "too many enrollment attempts from \(from ?? "this address"): try again in \(Seconds(wait))")
        }
        guard request.body.readableBytes <= Self.maxRequestBytes else {
            throw HTTPFailure(.payloadTooLarge, message: "an enrollment request is at most 64 KiB")
        }
        let asked: Asked
        do { asked = try JSONDecoder().decode(Asked.self, from: Data(request.body.readableBytesView)) } catch {
            throw HTTPFailure(.badRequest, message: "expected {\"csr\": PEM, \"secret\": …} or {\"csr\": PEM, \"token\": …}: \(error)")
        }
        let now = Int64(Date().timeIntervalSince1970)
        let parsed = Result { try CertificateRequest(pem: asked.csr) }
        // The name asked for, in normal form when it has one: what the audit records.
        let asking = (try? parsed.get())?.commonName.map { (try? HostName.normalized($0).get()) ?? $0 }
        let credential = try self.credential(asked.token ?? asked.secret ?? "", from: address, asking: asking, now: now)
        func refuse(_ status: HTTPResponseStatus, _ why: String) throws -> HTTPFailure {
            try database.audit(AuditEntry(at: now, action: .enrollRefused, actor: credential.actor, host: asking, address: from,
                                          detail: why))
            logger.warning("enrollment of \(asking ?? "a host") refused: \(why)", metadata: [
                "event": "enrollment_refused", "host": "\(asking ?? "-")", "reason": "\(why)", "by": "\(credential.actor)",
                "address": "\(from ?? "-")"])
            return HTTPFailure(status, message: why)
        }
        let csr: CertificateRequest
        do { csr = try parsed.get() } catch {
            throw try refuse(.badRequest, "not a certificate request: \(error)")
        }
        guard csr.isSelfSigned else { throw try refuse(.badRequest, "the request's signature does not verify") }
        if let advice = csr.keyRefusal { throw try refuse(.badRequest, advice) }
        let name: String
        switch HostName.normalized(csr.commonName ?? "") {
        case .success(let normal): name = normal
        case .failure(let error): throw try refuse(.badRequest, "the request's common name (CN) must name the host: \(error)")
        }
        if let names = credential.names, !((try? HostNamePattern(names))?.matches(name) ?? false) {
            let refusal = EnrollmentRefusal.outsideToken(id: credential.id ?? 0, names: names)
            throw try refuse(.forbidden, "\(name): \(Self.sentence(refusal))")
        }
        let admitted = SigningRequest(kind: .enroll, host: name, keyFingerprint: csr.keyFingerprint, csr: asked.csr, address: from,
                                      requestedAt: now, credentialID: credential.id, actor: credential.actor,
                                      policyReasons: Self.policyReasons(for: name, policy))
        return try desk.answer(admitted) { try decide(admitted, csr, now: now) }
    }

    /// Decides an admitted enrollment — issued, waiting for an operator, refused — and
    /// signs what is issued: here, or on the signing collector for the collector that
    /// admitted it (`SigningLoop`). Refusals throw `HTTPFailure`.
    func decide(_ admitted: SigningRequest, _ csr: CertificateRequest, now: Int64) throws -> Reply {
        let (name, key, from, actor) = (admitted.host, admitted.keyFingerprint, admitted.address, admitted.actor ?? "-")
        var issuedPEM = ""
        let attempt = EnrollmentAttempt(host: name, keyFingerprint: key, credentialID: admitted.credentialID ?? 0, address: from,
                                        policyReasons: admitted.policyReasons, requestTTL: enrollment.requestTTL, now: now)
        let outcome = try database.enroll(attempt) {
            let (certificate, pem) = try enrollment.issue(csr, name: name, at: now)
            issuedPEM = pem
            return certificate
        }
        switch outcome {
        case .issued(let certificate):
            logger.info("enrolled \(name)", metadata: [
                "event": "enrolled", "host": "\(name)", "serial": "\(certificate.serial)", "by": "\(actor)",
                "address": "\(from ?? "-")"])
            return try Self.reply(.ok, Answer(status: "issued", host: name, certificate: issuedPEM, ca: enrollment.bundle,
                                              fingerprint: key))
        case .pending(let waiting):
            // A host asking again while its request waits is the same request: logged at debug.
            logger.log(level: waiting.requestedAt == now ? .notice : .debug,
                       "enrollment of \(name) waits for an operator: portwarden enroll approve \(name) --fingerprint \(key.prefix(16))",
                       metadata: ["event": "enrollment_requested", "host": "\(name)", "key": "\(key.prefix(16))",
                                  "address": "\(from ?? "-")", "reason": "\(waiting.reason ?? "held")", "by": "\(actor)"])
            let message = waiting.approvedAt != nil
                ? "\(name): approved; ask again with the same key"
                : "\(name) needs an operator: \(waiting.reason ?? "held"). This key's SHA-256 is \(key); "
                    + "an operator approves it with: portwarden enroll approve \(name) --fingerprint \(key.prefix(16)) "
                    + "(before \(Timestamp.rfc3339(waiting.expiresAt)), when the request expires), then run this again"
            return try Self.reply(.accepted, Answer(status: "pending", host: name, message: message, fingerprint: key,
                                                    expires: Timestamp.rfc3339(waiting.expiresAt)))
        case .refused(let refusal):
            logger.warning("enrollment of \(name) refused: \(refusal)", metadata: [
                "event": "enrollment_refused", "host": "\(name)", "reason": "\(refusal)", "by": "\(actor)",
                "address": "\(from ?? "-")"])
            if case .tooManyWaiting(_, _, let until) = refusal {
                throw Self.tooMany(Int(max(1, until - now)), "\(name): \(Self.sentence(refusal))")
            }
            throw HTTPFailure(.forbidden, message: "\(name): \(Self.sentence(refusal))")
        }
    }

    /// Why the policy has an operator approve `name`: the entries singling it out. With a
    /// policy directory whose files were refused (none in force yet), every name: what
    /// the policy would single out is unknown, so nothing is let through unseen.
    static func policyReasons(for name: String, _ holder: PolicyHolder?) -> [String] {
        guard let holder else { return [] }
        guard let policy = holder.policy else {
            return ["no policy is in force (the files in \(holder.directory) were refused: see the collector's log), "
                    + "so whether it singles this name out is unknown"]
        }
        return policy.entries(singlingOut: name).map(\.description)
    }

    /// The secret or token whose text is `text`, if it may enroll now. A wrong one counts
    /// against the address's smaller limit; within it, the refusal is audited, with the
    /// name `asking` for.
    private func credential(_ text: String, from address: IPAddress?, asking: String?, now: Int64) throws -> EnrollmentCredential {
        let found = text.isEmpty ? nil : try database.credential(digest: CredentialText.digest(text))
        if let found, found.refusal(at: now) == nil { return found }
        let refusal = found?.refusal(at: now) ?? .unknownCredential
        if let wait = limiter.failed(address) {
            throw Self.tooMany(wait, "too many attempts with a wrong enrollment secret or token from \(address?.description ?? "this address"): try again in \(Seconds(wait))")
        }
        try database.audit(AuditEntry(at: now, action: .enrollRefused, actor: found?.actor ?? "unknown credential",
                                      host: asking, address: address?.description, detail: refusal.description))
        logger.warning("enrollment of \(asking ?? "a host") refused: \(refusal)", metadata: [
            "event": "enrollment_refused", "host": "\(asking ?? "-")", "reason": "\(refusal)",
            "by": "\(found?.actor ?? "unknown credential")", "address": "\(address?.description ?? "-")"])
        if found == nil, !(try database.enrollmentIsOpen(now: now)) {
            throw HTTPFailure(.forbidden, message: "enrollment by secret or token is off here: ask an operator to run "
                + "`portwarden enroll sign`, or for a token (`portwarden enroll token create`)")
        }
        throw HTTPFailure(.forbidden, message: Self.sentence(refusal))
    }

    /// What the host is told: the refusal and what to do about it.
    static func sentence(_ refusal: EnrollmentRefusal) -> String {
        switch refusal {
        case .unknownCredential: "wrong enrollment secret or token: get the current one from an operator"
        case .replacedSecret(let at): "this enrollment secret was replaced at \(Timestamp.rfc3339(at)): get the current one from an operator"
        case .disabledSecret(let at): "enrollment by secret was disabled at \(Timestamp.rfc3339(at)), and this secret with it: "
            + "ask an operator for a token (portwarden enroll token create) or to sign your CSR (portwarden enroll sign)"
        case .tokenRevoked(let id, let at): "token #\(id) was revoked at \(Timestamp.rfc3339(at)): ask an operator for another"
        case .tokenExpired(let id, let at): "token #\(id) expired at \(Timestamp.rfc3339(at)): ask an operator for another"
        case .tokenUsedUp(let id, let uses): "token #\(id) was used \(uses) time\(uses == 1 ? "" : "s"), all it may: ask an operator for another"
        case .outsideToken(let id, let names): "token #\(id) enrolls only names matching \(names): pass another --name, or ask for another token"
        case .keyRefused(let at): "an operator refused this key for this name at \(Timestamp.rfc3339(at)): talk to them"
        case .tooManyWaiting(_, nil, let until):
            "\(refusal.description), all one name may have: an operator must answer them (portwarden enroll pending); "
                + "the first expires at \(Timestamp.rfc3339(until))"
        case .tooManyWaiting(_, _, let until):
            "\(refusal.description), all one address may: ask again after \(Timestamp.rfc3339(until)), or have an operator "
                + "answer the requests (portwarden enroll pending)"
        }
    }

    static func tooMany(_ seconds: Int, _ message: String) -> HTTPFailure {
        HTTPFailure(.tooManyRequests, headers: ["Retry-After": String(seconds)], message: message)
    }

    static func reply(_ status: HTTPResponseStatus, _ answer: Answer) throws -> Reply {
        .json(try JSONEncoder().encode(answer), status: status)
    }
}

extension CertificateRequest {
    /// Why the collector will not certify this request's key, saying what key to make
    /// instead; nil when it will (`PublicKeyType.isAcceptedForHosts`). Enrollment and
    /// `portwarden enroll sign` both ask, so no certificate is issued that the collector's
    /// own TLS would then turn away.
    public var keyRefusal: String? {
        let type = keyType
        guard !type.isAcceptedForHosts else { return nil }
        return "the request carries \(type), which the collector's TLS does not accept: make an EC P-256 key — "
            + "portwarden-agent enroll does, or openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
            + "-keyout host.key -subj /CN=NAME -out host.csr (EC P-384 and RSA of 2048 to 4096 bits are accepted too)"
    }
}

/// Enrollment secrets and tokens as text: made here, printed once, kept only as digests.
public enum CredentialText {
    /// Tokens begin so; a secret is bare hex. Either is looked up by its digest.
    public static let tokenPrefix = "pwt_"

    /// A new enrollment secret: 256 random bits, hex.
    public static func newSecret() throws -> String { try Randomness.hex(bytes: 32) }

    /// A new token: the prefix and 256 random bits, hex.
    public static func newToken() throws -> String { tokenPrefix + (try Randomness.hex(bytes: 32)) }

    /// What the store keeps. A plain SHA-256 suffices: the text is 256 random bits, so
    /// there is nothing to guess that a slow hash would protect.
    public static func digest(_ text: String) -> String { Digest.sha256(Array(text.utf8)) }
}
