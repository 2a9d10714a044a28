import Foundation
import PostgresClient

// Renewal and certificates' standing on PostgreSQL. The decision (`RenewalDecision`) is
// taken on the name's certificates locked in its transaction under `PGLocks.identity`:
// a renewal raced through two collectors is granted once. Standing comes from memory
// (`CertificateStandings`), not from a round trip per handshake.
extension PostgresHistory {
    public func renew(_ attempt: RenewalAttempt, sign: () throws -> IssuedCertificate) throws -> Result<IssuedCertificate, RenewalRefusal> {
        let result: Result<IssuedCertificate, RenewalRefusal> = try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            let old = try connection.query("SELECT * FROM certificate WHERE serial = $1", [attempt.presented])
                .first.map(IssuedCertificate.init(pg:))
            let named = try old.map { try Self.certificates(named: $0.hostName, on: connection) } ?? []
            switch RenewalDecision.decide(attempt, old: old, named: named) {
            case .refused(let refusal, let audited):
                if audited { try RenewalDecision.refusalEntry(attempt, refusal).insert(connection) }
                return .failure(refusal)
            case .grant(let successor):
                let old = old!
                if let successor {
                    try connection.execute("UPDATE certificate SET revokedAt = $1 WHERE serial = $2", [attempt.now, successor])
                }
                let certificate = RenewalDecision.renewing(old, attempt, signed: try sign())
                // Presented now, whether or not the handshake's own record has landed yet.
                try connection.execute("""
                    UPDATE certificate SET renewedBy = $1, firstPresentedAt = COALESCE(firstPresentedAt, $2) WHERE serial = $3
                    """, [certificate.serial, attempt.now, old.serial])
                try certificate.insert(connection)
                try RenewalDecision.grantEntry(attempt, old: old, new: certificate).insert(connection)
                try Self.settleRequests(for: certificate, actor: "certificate \(old.serial)", at: attempt.now, connection)
                try Self.announceStandingChanged(host: old.hostName, on: connection)
                return .success(certificate)
            }
        }
        if case .success(let certificate) = result { standings.refresh(host: certificate.hostName, pool: pool) }
        return result
    }

    public func markPresented(serial: String, at now: Int64) throws {
        let host: String? = try write { connection in
            let marked = try connection.executePrepared("""
                UPDATE certificate SET firstPresentedAt = $1 WHERE serial = $2 AND firstPresentedAt IS NULL RETURNING hostName
                """, [now, serial]).first
            guard let host: String = try marked?.value("hostName") else { return nil }
            try Self.announceStandingChanged(host: host, on: connection)
            return host
        }
        if let host { standings.refresh(host: host, pool: pool) }
    }

    public func isRevoked(serial: String) -> Bool {
        standing(serial: serial) == .revoked
    }

    /// From memory while the listening connection is up; else one read. A database that
    /// cannot be reached answers from what the view last loaded; a store that cannot be
    /// read otherwise refuses (the safe side). A serial not on record is `unrecorded`.
    public func standing(serial: String) -> CertificateStanding {
        standings.standing(serial: serial) {
            do {
                return try read { connection in
                    let named = try connection.executePrepared(CertificateStandings.columns + """
                         WHERE hostName = (SELECT hostName FROM certificate WHERE serial = $1)
                        """, [serial]).rows.map { try CertificateStandings.certificate($0).1 }
                    guard let certificate = named.first(where: { $0.serial == serial }) else { return .unrecorded }
                    return CertificateStandings.standing(of: certificate, among: named)
                }
            } catch is StorageUnavailable {
                // Unreachable: what the view last knew (see `lastKnown`); refused when it never knew.
                return standings.lastKnown(serial: serial) ?? .revoked
            } catch {
                return .revoked
            }
        }
    }

    public func certificates(host: String?) throws -> [IssuedCertificate] {
        try read { connection in
            try connection.query("SELECT * FROM certificate WHERE $1::text IS NULL OR hostName = $1 ORDER BY issuedAt, recorded", [host])
                .map(IssuedCertificate.init(pg:))
        }
    }

    public func currentCertificatesEnding(before: Int64) throws -> Int {
        try read { connection in
            try connection.query("""
                SELECT COUNT(*) AS ending FROM certificate WHERE revokedAt IS NULL AND renewedBy IS NULL AND notAfter < $1
                """, [before]).first?.value("ending") ?? 0
        }
    }
}
