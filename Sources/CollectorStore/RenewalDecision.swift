/// Whether a renewal is granted: the one decision both backends take, in the transaction
/// that records what it says. The presented certificate must be the name's current one
/// (unrevoked, not renewed already), for a key the name never held.
enum RenewalDecision: Equatable {
    /// Refused; `audited` unless a host asking in a loop would fill the audit table.
    case refused(RenewalRefusal, audited: Bool)
    /// Sign; first revoke `revokingSuccessor`, the successor of a lost answer asked for again.
    case grant(revokingSuccessor: String?)

    /// `old` is the presented certificate as recorded; `named` its name's certificates in
    /// the order they were recorded.
    static func decide(_ attempt: RenewalAttempt, old: IssuedCertificate?, named: [IssuedCertificate]) -> RenewalDecision {
        let now = attempt.now
        guard let old else { return .refused(.unknown(serial: attempt.presented), audited: true) }
        let recent = named.filter { $0.renews != nil && $0.issuedAt > now - 3_600 }.map(\.issuedAt).sorted(by: >)
            .prefix(CollectorDatabase.renewalsPerHour)
        if recent.count >= CollectorDatabase.renewalsPerHour, let oldest = recent.last {
            return .refused(.throttled(retryAfter: max(oldest + 3_600 - now, 1)), audited: false)
        }
        if let at = old.revokedAt { return .refused(.revoked(serial: old.serial, at: at), audited: true) }
        var successorToRevoke: String?
        if let by = old.renewedBy {
            // The one exception: the answer was lost (a timeout, a crash before the agent
            // stored it), and the host asks again with the same new key (it keeps it as
            // host.key.next). The successor nobody used is revoked and signed again.
            guard let successor = named.first(where: { $0.serial == by }), successor.isCurrent, successor.firstPresentedAt == nil,
                  successor.keyFingerprint == attempt.keyFingerprint else {
                return .refused(.renewed(serial: old.serial, by: by), audited: true)
            }
            successorToRevoke = by
        }
        guard old.hostName == attempt.host else {
            return .refused(.otherName(serial: old.serial, holder: old.hostName), audited: true)
        }
        // The route compares the key with the presented certificate's; the record may
        // know it too (certificates from v7 on).
        guard old.keyFingerprint != attempt.keyFingerprint else { return .refused(.sameKey, audited: true) }
        // Nor any key the name held before — but the lost answers' successors (of this
        // certificate, never presented, revoked as the host asked again) are the key
        // asked for again, not an old one.
        if let holder = named.first(where: {
            $0.keyFingerprint == attempt.keyFingerprint && !($0.renews == old.serial && $0.firstPresentedAt == nil)
        }) {
            return .refused(.reusedKey(serial: holder.serial), audited: true)
        }
        return .grant(revokingSuccessor: successorToRevoke)
    }

    /// The audit entry of a refusal.
    static func refusalEntry(_ attempt: RenewalAttempt, _ refusal: RenewalRefusal) -> AuditEntry {
        AuditEntry(at: attempt.now, action: .renewalRefused, actor: "certificate \(attempt.presented)", host: attempt.host,
                   address: attempt.address, detail: refusal.description)
    }

    /// The certificate `sign` made, as a renewal of `old` records it.
    static func renewing(_ old: IssuedCertificate, _ attempt: RenewalAttempt, signed: IssuedCertificate) -> IssuedCertificate {
        var certificate = signed
        certificate.renews = old.serial
        certificate.keyFingerprint = attempt.keyFingerprint
        return certificate
    }

    /// The audit entry of a granted renewal.
    static func grantEntry(_ attempt: RenewalAttempt, old: IssuedCertificate, new certificate: IssuedCertificate) -> AuditEntry {
        AuditEntry(at: attempt.now, action: .certificateRenewed, actor: "certificate \(old.serial)", host: certificate.hostName,
                   address: attempt.address,
                   detail: "serial \(certificate.serial) renews \(old.serial), key \(attempt.keyFingerprint.prefix(16))")
    }
}
