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
            let (request, entry) = RequestSettlement.approved(requests, now: now, ttl: ttl, by: actor)
            try request.update(db)
            try Self.audit(entry, db)
            return request
        }
    }

    /// `enroll refuse`: that key never gets the name; the host is told so. A superseded
    /// request may be refused too (a key the operator does not want back).
    public func refuseRequest(host: String, fingerprint: String, now: Int64, by actor: String) throws
        -> Result<EnrollmentRequest, RequestAnswerFailure>
    {
        try answer(host: host, fingerprint: fingerprint, now: now, superseded: true) { requests, db in
            let (refused, entry) = RequestSettlement.refused(requests, now: now, by: actor)
            for request in refused { try request.update(db) }
            try Self.audit(entry, db)
            return refused.last!
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
            switch RequestSettlement.answerable(unsettled, fingerprint: fingerprint, now: now, superseded: superseded) {
            case .success(let requests): return .success(try change(requests, db))
            case .failure(let failure): return .failure(failure)
            }
        }
    }

    /// A certificate was issued for the name: requests of its key are settled by it; other
    /// keys' waiting or approved requests are superseded, each audited.
    static func settleRequests(for certificate: IssuedCertificate, actor: String, at now: Int64, _ db: Database) throws {
        let open = try EnrollmentRequest.fetchAll(db, sql: """
            SELECT * FROM enrollmentRequest WHERE \(EnrollmentRequest.undecided) AND hostName = ? AND expiresAt > ?
            """, arguments: [certificate.hostName, now])
        let (settled, entries) = RequestSettlement.settled(open, by: certificate, actor: actor, at: now)
        for request in settled { try request.update(db) }
        for entry in entries { try audit(entry, db) }
    }
}
