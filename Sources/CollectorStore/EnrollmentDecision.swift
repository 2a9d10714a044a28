import PortwardenModel

/// What the store holds about a name when a host asks to enroll it: the facts an
/// enrollment is decided on, read by each backend in the transaction that acts on it.
struct EnrollmentFacts {
    /// The secret or token the host showed; nil when it no longer exists.
    var credential: EnrollmentCredential?
    /// The name's certificates, every one.
    var certificates: [IssuedCertificate]
    /// Whether a host by this name has reported.
    var hostReported: Bool
    /// The tags an operator assigned to the name.
    var assignedTags: [String]
    /// The name's requests, oldest first.
    var requests: [EnrollmentRequest]
}

/// What an enrollment comes to: the one decision both backends take, in the transaction
/// that writes what it says (SQLite's single writer, PostgreSQL's `PGLocks.identity`).
enum EnrollmentDecision: Equatable {
    /// Refused; `actor` is the credential as the audit names it.
    case refused(EnrollmentRefusal, actor: String)
    /// The key's request already waits: it asked again.
    case waiting(EnrollmentRequest, actor: String)
    /// A new request, to be stored, waits for an operator.
    case newRequest(EnrollmentRequest, actor: String)
    /// Sign and record a certificate; `approved` when an operator approved this key.
    case issue(approved: Bool, actor: String)

    /// A name that ever held a certificate or belongs to a host that reported, that the
    /// policy singles out by name, or that an operator tagged, waits for an operator to
    /// approve this key; any other is issued at once.
    static func decide(_ attempt: EnrollmentAttempt, _ facts: EnrollmentFacts) -> EnrollmentDecision {
        let now = attempt.now
        guard let credential = facts.credential else { return .refused(.unknownCredential, actor: "unknown credential") }
        let actor = credential.actor
        if let refusal = credential.refusal(at: now) { return .refused(refusal, actor: actor) }
        let reasons = approvalReasons(attempt, facts)
        if reasons.isEmpty { return .issue(approved: false, actor: actor) }
        let mine = facts.requests.filter { $0.keyFingerprint == attempt.keyFingerprint }
        if let refusedAt = mine.first(where: { $0.refusedAt != nil })?.refusedAt {
            return .refused(.keyRefused(at: refusedAt), actor: actor)
        }
        if let open = mine.first(where: { $0.issuedSerial == nil && $0.supersededAt == nil && $0.expiresAt > now }) {
            return open.approvedAt != nil ? .issue(approved: true, actor: actor) : .waiting(open, actor: actor)
        }
        if let refusal = waitingRefusal(attempt, facts.requests) { return .refused(refusal, actor: actor) }
        return .newRequest(EnrollmentRequest(
            hostName: attempt.host, keyFingerprint: attempt.keyFingerprint, requestedAt: now, address: attempt.address,
            expiresAt: now + attempt.requestTTL, reason: reasons.joined(separator: "; "), credential: actor), actor: actor)
    }

    /// Carries the decision out through a backend's writes, in the transaction it was
    /// taken in: `audit` an entry, `insert` a new request (setting its id), `issue` a
    /// certificate (`CollectorDatabase.issue` or its PostgreSQL twin, given how to sign,
    /// who issues and the audit detail), and count a use of the credential (`used`).
    func outcome(_ attempt: EnrollmentAttempt, sign: () throws -> IssuedCertificate,
                 audit: (AuditEntry) throws -> Void, insert: (inout EnrollmentRequest) throws -> Void,
                 issue: (_ sign: () throws -> IssuedCertificate, _ actor: String, _ detail: String) throws -> IssuedCertificate,
                 used: () throws -> Void) throws -> EnrollmentOutcome {
        if let entry = auditEntry(attempt) { try audit(entry) }
        switch self {
        case .refused(let refusal, _):
            return .refused(refusal)
        case .waiting(let open, _):
            return .pending(open)
        case .newRequest(var request, _):
            try insert(&request)
            return .pending(request)
        case .issue(let approved, let actor):
            let key = attempt.keyFingerprint
            let certificate = try withoutActuallyEscaping(sign) { sign in
                try issue({
                    var certificate = try sign()
                    certificate.keyFingerprint = key  // what settles this key's approved request
                    return certificate
                }, actor, Self.issueDetail(key: key, approved: approved))
            }
            try used()
            return .issued(certificate)
        }
    }

    /// The audit entry of a decision that issues nothing; nil for `issue` (the issuance audits itself).
    func auditEntry(_ attempt: EnrollmentAttempt) -> AuditEntry? {
        func entry(_ action: AuditAction, _ actor: String, _ detail: String) -> AuditEntry {
            AuditEntry(at: attempt.now, action: action, actor: actor, host: attempt.host, address: attempt.address,
                       detail: "key \(attempt.keyFingerprint.prefix(16)): \(detail)")
        }
        switch self {
        case .refused(let refusal, let actor): return entry(.enrollRefused, actor, refusal.description)
        case .waiting(let open, let actor): return entry(.enrollPending, actor, "asked again; waits for an operator (\(open.reason ?? ""))")
        case .newRequest(let request, let actor): return entry(.enrollPending, actor, "waits for an operator: \(request.reason ?? "")")
        case .issue: return nil
        }
    }

    /// The issuance's audit detail.
    private static func issueDetail(key: String, approved: Bool) -> String {
        approved ? "key \(key.prefix(16)), approved by an operator" : "key \(key.prefix(16)), a name never used"
    }

    /// The caps on waiting requests, counted over the name's requests still within their
    /// time: nil when a new one may wait.
    static func waitingRefusal(_ attempt: EnrollmentAttempt, _ requests: [EnrollmentRequest]) -> EnrollmentRefusal? {
        let live = requests.filter { $0.issuedSerial == nil && $0.expiresAt > attempt.now }
        let source = attempt.address.flatMap(IPAddress.init)
        let fromSource = live.filter { $0.address.flatMap(IPAddress.init)?.source == source?.source }
        if fromSource.count >= EnrollmentRequest.maxWaitingPerSource {
            return .tooManyWaiting(count: fromSource.count, source: source?.sourceDescription ?? "an unknown address",
                                   until: fromSource.map(\.expiresAt).min()!)
        }
        let waiting = live.filter { $0.refusedAt == nil && $0.supersededAt == nil }
        if waiting.count >= EnrollmentRequest.maxWaitingPerName {
            return .tooManyWaiting(count: waiting.count, source: nil, until: waiting.map(\.expiresAt).min()!)
        }
        return nil
    }

    /// Why this name needs an operator, as sentences; empty when it may be issued at once.
    static func approvalReasons(_ attempt: EnrollmentAttempt, _ facts: EnrollmentFacts) -> [String] {
        var reasons: [String] = []
        if let held = heldReason(facts.certificates, key: attempt.keyFingerprint, now: attempt.now) {
            reasons.append(held)
        } else if facts.hostReported {
            reasons.append("a host by this name has reported")
        }
        reasons += attempt.policyReasons
        if !facts.assignedTags.isEmpty { reasons.append("an operator tagged it \(facts.assignedTags.sorted().joined(separator: ", "))") }
        return reasons
    }

    /// What the name's certificates say to an operator about a new key for it: the one in
    /// force (held by this key or another), else the newest — revoked or expired.
    static func heldReason(_ certificates: [IssuedCertificate], key: String, now: Int64) -> String? {
        func time(_ seconds: Int64) -> String { Timestamp.rfc3339(seconds) }
        // While a renewal's overlap lasts, the renewed certificate is the name's, not its predecessor.
        let valid = certificates.filter { $0.revokedAt == nil && $0.notAfter > now }
        if let current = valid.first(where: \.isCurrent) ?? valid.first {
            if current.keyFingerprint == key {
                return "this key already holds the name's current certificate (serial \(current.serial), valid until \(time(current.notAfter)))"
            }
            // Certificates from before v7 may not say their key.
            return "the name's certificate is valid until \(time(current.notAfter)) (serial \(current.serial))"
                + (current.keyFingerprint == nil ? "" : ", held by another key")
        }
        guard let newest = certificates.max(by: { ($0.issuedAt, $0.notAfter) < ($1.issuedAt, $1.notAfter) }) else { return nil }
        if let revokedAt = newest.revokedAt {
            return "the name's certificate was revoked at \(time(revokedAt)) (serial \(newest.serial))"
        }
        return "the name's certificate expired at \(time(newest.notAfter)) (serial \(newest.serial))"
    }
}
