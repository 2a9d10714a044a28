internal import GRDB

/// Why an operator's answer to a request could not be given.
public enum RequestAnswerFailure: Error, Equatable, Sendable {
    /// No undecided request of `host` has a fingerprint starting so; these wait.
    case noMatch(waiting: [EnrollmentRequest])
    /// Requests of more than one key match: a longer prefix is needed.
    case ambiguous([EnrollmentRequest])
    /// It matched only requests that expired: the host must ask again.
    case expired(EnrollmentRequest)
    /// It matched a request another key's certificate superseded: the host must ask
    /// again, so that approving it is a decision about the name as it is now.
    case superseded(EnrollmentRequest)
}

/// An operator's side of waiting enrollments: listing them, approving or refusing a key,
/// and what an issued certificate does to the name's other requests.
extension CollectorDatabase {
    /// Requests an operator may still answer (or, approved, the host may still collect),
    /// and those superseded, until each expires; oldest first.
    public func openRequests(now: Int64) throws -> [EnrollmentRequest] {
        try reader.read { db in
            try EnrollmentRequest.fetchAll(db, sql: """
                SELECT * FROM enrollmentRequest WHERE \(EnrollmentRequest.unsettled) AND expiresAt > ? ORDER BY requestedAt, id
                """, arguments: [now])
        }
    }

    /// `enroll approve`: the waiting request of `host` whose key's fingerprint starts with
    /// `fingerprint` is approved; the host collects its certificate at its next attempt,
    /// within `ttl` seconds.
    public func approveRequest(host: String, fingerprint: String, now: Int64, ttl: Int64, by actor: String) throws
        -> Result<EnrollmentRequest, RequestAnswerFailure>
    {
        try answer(host: host, fingerprint: fingerprint, now: now, superseded: false) { requests, db in
            var request = requests.last!  // one open request per key and name
            request.approvedAt = now
            request.expiresAt = now + ttl
            try request.update(db)
            try Self.audit(AuditEntry(at: now, action: .requestApproved, actor: actor, host: host, address: request.address,
                                      detail: "key \(request.keyFingerprint.prefix(16)); the host collects it by its next attempt"), db)
            return request
        }
    }

    /// `enroll refuse`: that key never gets the name; the host is told so. A superseded
    /// request may be refused too (a key the operator does not want back).
    public func refuseRequest(host: String, fingerprint: String, now: Int64, by actor: String) throws
        -> Result<EnrollmentRequest, RequestAnswerFailure>
    {
        try answer(host: host, fingerprint: fingerprint, now: now, superseded: true) { requests, db in
            for var request in requests {
                request.refusedAt = now
                try request.update(db)
            }
            let request = requests.last!
            try Self.audit(AuditEntry(at: now, action: .requestRefused, actor: actor, host: host, address: request.address,
                                      detail: "key \(request.keyFingerprint.prefix(16))"), db)
            return request
        }
    }

    /// The open requests of the one key of `host` whose fingerprint starts so (oldest
    /// first), handed to `change`; superseded ones only when `superseded`.
    private func answer(host: String, fingerprint: String, now: Int64, superseded: Bool,
                        _ change: ([EnrollmentRequest], Database) throws -> EnrollmentRequest) throws
        -> Result<EnrollmentRequest, RequestAnswerFailure>
    {
        try writer.write { db in
            let unsettled = try EnrollmentRequest.fetchAll(db, sql: """
                SELECT * FROM enrollmentRequest WHERE \(EnrollmentRequest.unsettled) AND hostName = ? ORDER BY requestedAt, id
                """, arguments: [host])
            let matching = unsettled.filter { $0.keyFingerprint.hasPrefix(fingerprint) }
            let open = matching.filter { $0.expiresAt > now }
            guard Set(open.map(\.keyFingerprint)).count <= 1 else { return .failure(.ambiguous(open)) }
            let answerable = open.filter { superseded || $0.supersededAt == nil }
            guard !answerable.isEmpty else {
                if let stale = open.last { return .failure(.superseded(stale)) }
                if let expired = matching.last { return .failure(.expired(expired)) }
                return .failure(.noMatch(waiting: unsettled.filter { $0.expiresAt > now && $0.supersededAt == nil }))
            }
            return .success(try change(answerable, db))
        }
    }

    /// A certificate was issued for the name: requests of its key are settled by it; other
    /// keys' waiting or approved requests are superseded, each audited.
    static func settleRequests(for certificate: IssuedCertificate, actor: String, at now: Int64, _ db: Database) throws {
        let open = try EnrollmentRequest.fetchAll(db, sql: """
            SELECT * FROM enrollmentRequest WHERE \(EnrollmentRequest.undecided) AND hostName = ? AND expiresAt > ?
            """, arguments: [certificate.hostName, now])
        for var request in open {
            if request.keyFingerprint == certificate.keyFingerprint {
                request.issuedSerial = certificate.serial
            } else {
                request.supersededAt = now
                request.supersededBy = certificate.serial
                try audit(AuditEntry(at: now, action: .requestSuperseded, actor: actor, host: certificate.hostName,
                                     address: request.address,
                                     detail: "key \(request.keyFingerprint.prefix(16)): serial \(certificate.serial) was issued "
                                         + "for the name instead; approving it needs the host to ask again"), db)
            }
            try request.update(db)
        }
    }
}
