/// What happens to a name's requests: an operator answering one key's, and a certificate
/// issued for the name settling them. Pure: both backends read the rows, call these, and
/// write back what they return.
enum RequestSettlement {
    /// Of `unsettled` (the name's requests neither issued nor refused, oldest first), the
    /// open ones of the one key whose fingerprint starts with `fingerprint`; superseded
    /// ones only when `superseded`. Or why none can be answered.
    static func answerable(_ unsettled: [EnrollmentRequest], fingerprint: String, now: Int64, superseded: Bool)
        -> Result<[EnrollmentRequest], RequestAnswerFailure>
    {
        let matching = unsettled.filter { $0.keyFingerprint.hasPrefix(fingerprint) }
        let open = matching.filter { $0.expiresAt > now }
        guard Set(open.map(\.keyFingerprint)).count <= 1 else { return .failure(.ambiguous(open)) }
        let answerable = open.filter { superseded || $0.supersededAt == nil }
        guard !answerable.isEmpty else {
            if let stale = open.last { return .failure(.superseded(stale)) }
            if let expired = matching.last { return .failure(.expired(expired)) }
            return .failure(.noMatch(waiting: unsettled.filter { $0.expiresAt > now && $0.supersededAt == nil }))
        }
        return .success(answerable)
    }

    /// `enroll approve`: the request approved (one open request per key and name), and its audit entry.
    static func approved(_ requests: [EnrollmentRequest], now: Int64, ttl: Int64, by actor: String) -> (EnrollmentRequest, AuditEntry) {
        var request = requests.last!
        request.approvedAt = now
        request.expiresAt = now + ttl
        return (request, AuditEntry(at: now, action: .requestApproved, actor: actor, host: request.hostName, address: request.address,
                                    detail: "key \(request.keyFingerprint.prefix(16)); the host collects it by its next attempt"))
    }

    /// `enroll refuse`: every one of the key's requests refused, and the audit entry.
    static func refused(_ requests: [EnrollmentRequest], now: Int64, by actor: String) -> ([EnrollmentRequest], AuditEntry) {
        let refused = requests.map { request in
            var request = request
            request.refusedAt = now
            return request
        }
        let last = refused.last!
        return (refused, AuditEntry(at: now, action: .requestRefused, actor: actor, host: last.hostName, address: last.address,
                                    detail: "key \(last.keyFingerprint.prefix(16))"))
    }

    /// A certificate was issued for the name: of its undecided requests within their time
    /// (`open`), those of its key are settled by it; other keys' are superseded, each
    /// audited. The requests to write back, and the entries.
    static func settled(_ open: [EnrollmentRequest], by certificate: IssuedCertificate, actor: String, at now: Int64)
        -> ([EnrollmentRequest], [AuditEntry])
    {
        var entries: [AuditEntry] = []
        let requests = open.map { request in
            var request = request
            if request.keyFingerprint == certificate.keyFingerprint {
                request.issuedSerial = certificate.serial
            } else {
                request.supersededAt = now
                request.supersededBy = certificate.serial
                entries.append(AuditEntry(at: now, action: .requestSuperseded, actor: actor, host: certificate.hostName,
                                          address: request.address,
                                          detail: "key \(request.keyFingerprint.prefix(16)): serial \(certificate.serial) was issued "
                                              + "for the name instead; approving it needs the host to ask again"))
            }
            return request
        }
        return (requests, entries)
    }

    /// The audit entry of an issuance that revoked `superseded`.
    static func issueEntry(_ certificate: IssuedCertificate, action: AuditAction, actor: String, address: String?, detail: String,
                           superseded: [String], at now: Int64) -> AuditEntry {
        var detail = "serial \(certificate.serial), \(detail)"
        if !superseded.isEmpty { detail += "; supersedes \(superseded.joined(separator: ", "))" }
        return AuditEntry(at: now, action: action, actor: actor, host: certificate.hostName, address: address, detail: detail)
    }
}
