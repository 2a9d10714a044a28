import Foundation
import PortwardenModel
import PostgresClient

// Enrollment on PostgreSQL: each decision (`EnrollmentDecision`, `RequestSettlement`)
// and the writes it justifies share one transaction holding `PGLocks.identity`, so
// collectors enrolling one name at once take turns: exactly one is issued.
extension PostgresHistory {
    public func enroll(_ attempt: EnrollmentAttempt, sign: () throws -> IssuedCertificate) throws -> EnrollmentOutcome {
        let outcome: EnrollmentOutcome = try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            let host = attempt.host
            let facts = EnrollmentFacts(
                credential: try connection.query("SELECT * FROM enrollmentCredential WHERE id = $1", [attempt.credentialID])
                    .first.map(EnrollmentCredential.init(pg:)),
                certificates: try Self.certificates(named: host, on: connection),
                hostReported: try connection.query("SELECT EXISTS (SELECT 1 FROM host WHERE name = $1) AS known", [host])
                    .first?.value("known") ?? false,
                assignedTags: try connection.query("SELECT tag FROM hostTag WHERE hostName = $1 AND assigned", [host])
                    .map { try $0.value("tag") },
                requests: try connection.query("SELECT * FROM enrollmentRequest WHERE hostName = $1 ORDER BY id", [host])
                    .map(EnrollmentRequest.init(pg:)))
            return try EnrollmentDecision.decide(attempt, facts).outcome(
                attempt, sign: sign, audit: { try $0.insert(connection) }, insert: { try $0.insert(connection) },
                issue: { sign, actor, detail in
                    try Self.issue(sign, actor: actor, address: attempt.address, detail: detail, action: .enrollIssued,
                                   at: attempt.now, connection)
                },
                used: { try connection.execute("UPDATE enrollmentCredential SET uses = uses + 1 WHERE id = $1", [attempt.credentialID]) })
        }
        if case .issued(let certificate) = outcome { standings.refresh(host: certificate.hostName, pool: pool) }
        return outcome
    }

    public func openRequests(now: Int64) throws -> [EnrollmentRequest] {
        try read { connection in
            try connection.query("""
                SELECT * FROM enrollmentRequest WHERE \(EnrollmentRequest.unsettled) AND expiresAt > $1 ORDER BY requestedAt, id
                """, [now]).map(EnrollmentRequest.init(pg:))
        }
    }

    public func approveRequest(host: String, fingerprint: String, now: Int64, ttl: Int64, by actor: String) throws
        -> Result<EnrollmentRequest, RequestAnswerFailure>
    {
        try answer(host: host, fingerprint: fingerprint, now: now, superseded: false) { requests, connection in
            let (request, entry) = RequestSettlement.approved(requests, now: now, ttl: ttl, by: actor)
            try request.update(connection)
            try entry.insert(connection)
            return request
        }
    }

    public func refuseRequest(host: String, fingerprint: String, now: Int64, by actor: String) throws
        -> Result<EnrollmentRequest, RequestAnswerFailure>
    {
        try answer(host: host, fingerprint: fingerprint, now: now, superseded: true) { requests, connection in
            let (refused, entry) = RequestSettlement.refused(requests, now: now, by: actor)
            for request in refused { try request.update(connection) }
            try entry.insert(connection)
            return refused.last!
        }
    }

    /// The open requests of the one key of `host` whose fingerprint starts so, handed to `change`.
    private func answer(host: String, fingerprint: String, now: Int64, superseded: Bool,
                        _ change: ([EnrollmentRequest], PGConnection) throws -> EnrollmentRequest) throws
        -> Result<EnrollmentRequest, RequestAnswerFailure>
    {
        try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            let unsettled = try connection.query("""
                SELECT * FROM enrollmentRequest WHERE \(EnrollmentRequest.unsettled) AND hostName = $1 ORDER BY requestedAt, id
                """, [host]).map(EnrollmentRequest.init(pg:))
            switch RequestSettlement.answerable(unsettled, fingerprint: fingerprint, now: now, superseded: superseded) {
            case .success(let requests): return .success(try change(requests, connection))
            case .failure(let failure): return .failure(failure)
            }
        }
    }

    @discardableResult
    public func recordSigned(by actor: String, at now: Int64, sign: () throws -> IssuedCertificate) throws -> IssuedCertificate {
        let certificate = try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            return try Self.issue(sign, actor: actor, address: nil, detail: "signed by an operator", action: .certificateSigned,
                                  at: now, connection)
        }
        standings.refresh(host: certificate.hostName, pool: pool)
        return certificate
    }

    public func revoke(host: String, at now: Int64, by actor: String) throws -> Int {
        let serials = try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            let serials = try Self.revoked(host: host, at: now, connection)
            if !serials.isEmpty {
                try AuditEntry(at: now, action: .certificateRevoked, actor: actor, host: host,
                               detail: "serial \(serials.joined(separator: ", "))").insert(connection)
            }
            return serials
        }
        if !serials.isEmpty { standings.refresh(host: host, pool: pool) }
        return serials.count
    }

    /// Signs and records a certificate, revoking the name's older ones first (as
    /// `CollectorDatabase.issue`: at most one current certificate per name), settling the
    /// name's requests. The caller holds `PGLocks.identity`.
    static func issue(_ sign: () throws -> IssuedCertificate, actor: String, address: String?, detail: String,
                      action: AuditAction, at now: Int64, _ connection: PGConnection) throws -> IssuedCertificate {
        let certificate = try sign()
        let superseded = try revoked(host: certificate.hostName, at: now, connection)
        try certificate.insert(connection)
        try RequestSettlement.issueEntry(certificate, action: action, actor: actor, address: address, detail: detail,
                                         superseded: superseded, at: now).insert(connection)
        try settleRequests(for: certificate, actor: actor, at: now, connection)
        try announceStandingChanged(host: certificate.hostName, on: connection)
        return certificate
    }

    /// Revokes `host`'s unrevoked certificates, announcing it; their serials. For retirement
    /// too (the caller holds `PGLocks.identity`).
    static func revoked(host: String, at now: Int64, _ connection: PGConnection) throws -> [String] {
        let serials: [String] = try connection.query("""
            UPDATE certificate SET revokedAt = $1 WHERE hostName = $2 AND revokedAt IS NULL RETURNING serial, recorded
            """, [now, host]).map { (try $0.value("recorded") as Int64, try $0.value("serial") as String) }.sorted { $0.0 < $1.0 }.map(\.1)
        if !serials.isEmpty { try announceStandingChanged(host: host, on: connection) }
        return serials
    }

    /// Tells every collector's `CertificateStandings` that `host`'s certificates changed,
    /// when the transaction on `connection` commits: for every write that revokes,
    /// issues, renews or marks a certificate presented (retirement included). The writer
    /// then calls `standings.refresh(host:pool:)` after the commit for its own view.
    static func announceStandingChanged(host: String, on connection: PGConnection) throws {
        // A payload is at most 8000 bytes; a name longer than any normal one (kept from an
        // older release, or signed by an operator) has every view read everything again.
        let payload = host.utf8.count <= CertificateStandings.longestAnnounced ? host : CertificateStandings.everything
        try connection.notify(CertificateStandings.channel, payload)
    }

    /// The name's requests of a certificate just issued: settled or superseded.
    static func settleRequests(for certificate: IssuedCertificate, actor: String, at now: Int64, _ connection: PGConnection) throws {
        let open = try connection.query("""
            SELECT * FROM enrollmentRequest WHERE \(EnrollmentRequest.undecided) AND hostName = $1 AND expiresAt > $2 ORDER BY id
            """, [certificate.hostName, now]).map(EnrollmentRequest.init(pg:))
        let (settled, entries) = RequestSettlement.settled(open, by: certificate, actor: actor, at: now)
        for request in settled { try request.update(connection) }
        for entry in entries { try entry.insert(connection) }
    }

    /// The name's certificates in the order they were recorded, locked until the
    /// transaction ends (a first presentation waits for the decision taken on them).
    static func certificates(named host: String, on connection: PGConnection) throws -> [IssuedCertificate] {
        try connection.query("SELECT * FROM certificate WHERE hostName = $1 ORDER BY recorded FOR UPDATE", [host])
            .map(IssuedCertificate.init(pg:))
    }
}
