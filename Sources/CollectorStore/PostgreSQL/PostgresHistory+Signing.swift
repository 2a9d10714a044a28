import Foundation
import PostgresClient

// The signing queue on PostgreSQL (SigningQueue): a collector without the CA key inserts
// what it admitted; the signing collector — whichever holds `PGLocks.signing` on a
// session of its own, as the upkeep's holder does — answers it; the collector the host
// asks again takes the answer (DELETE … RETURNING: one taker).
extension PostgresHistory: SigningQueue {
    public func queueSigning(_ request: SigningRequest, maxPerName: Int) throws -> Bool {
        let text = String(decoding: try JSONEncoder().encode(request), as: UTF8.self)
        return try write { connection in
            // A lock per name (the two-number advisory lock: the signing key, the name's hash),
            // so two collectors queueing for one name at once cannot both pass the count.
            try connection.execute("SELECT pg_advisory_xact_lock($1::int, hashtext($2))", [PGLocks.signing, request.host])
            let waiting: Int64 = try connection.query("""
                SELECT count(*) AS n FROM signingRequest WHERE host = $1 AND NOT (kind = $2 AND keyFingerprint = $3)
                """, [request.host, request.kind.rawValue, request.keyFingerprint]).first?.value("n") ?? 0
            guard waiting < maxPerName else { return false }
            try connection.executePrepared("""
                INSERT INTO signingRequest (kind, host, keyFingerprint, request, requestedAt) VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (kind, host, keyFingerprint) DO NOTHING
                """, [request.kind.rawValue, request.host, request.keyFingerprint, text, request.requestedAt])
            return true
        }
    }

    public func signingProgress(_ kind: SigningRequest.Kind, host: String, keyFingerprint: String) throws -> SigningProgress {
        try write { connection in
            let key: [any PGParameter] = [kind.rawValue, host, keyFingerprint]
            if let row = try connection.query("""
                DELETE FROM signingRequest WHERE kind = $1 AND host = $2 AND keyFingerprint = $3 AND answeredAt IS NOT NULL
                RETURNING answerStatus, answerType, answerBody, answerRetryAfter
                """, key).first {
                return .answered(SigningAnswer(status: try row.value("answerStatus"), contentType: try row.value("answerType"),
                                               body: try row.value("answerBody"), retryAfter: try row.value("answerRetryAfter")))
            }
            let waiting: Bool = try connection.query("""
                SELECT EXISTS (SELECT 1 FROM signingRequest WHERE kind = $1 AND host = $2 AND keyFingerprint = $3) AS waiting
                """, key).first?.value("waiting") ?? false
            return waiting ? .waiting : .none
        }
    }

    /// Whether any session of this database holds the signing lock (a 64-bit advisory key
    /// shows in pg_locks as classid, its high half, and objid, its low half, objsubid 1).
    public func signerIsRunning() throws -> Bool {
        try read { connection in
            try connection.query("""
                SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                    AND classid::bigint = $1 AND objid::bigint = $2
                    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS running
                """, [PGLocks.signing >> 32, PGLocks.signing & 0xFFFF_FFFF]).first?.value("running") ?? false
        }
    }

    public func holdsSigning() -> Bool {
        signing.holds(conninfo: pool.conninfo)
    }

    public func waitingSigning(limit: Int, droppingBefore cutoff: Int64) throws -> [SigningRequest] {
        try write { connection in
            try connection.executePrepared("DELETE FROM signingRequest WHERE coalesce(answeredAt, requestedAt) < $1", [cutoff])
            return try connection.query("""
                SELECT id, request FROM signingRequest WHERE answeredAt IS NULL ORDER BY id LIMIT $1
                """, [limit]).map { row in
                var request = try JSONDecoder().decode(SigningRequest.self, from: Data((try row.value("request") as String).utf8))
                request.id = try row.value("id")
                return request
            }
        }
    }

    public func inOneTransaction<T>(_ body: () throws -> T) throws -> T {
        do { return try pool.oneTransaction(body) } catch { throw StorageUnavailable(error) ?? error }
    }

    public func answerSigning(id: Int64, _ answer: SigningAnswer, at now: Int64) throws {
        _ = try write { connection in
            try connection.executePrepared("""
                UPDATE signingRequest SET answeredAt = $2, answerStatus = $3, answerType = $4, answerBody = $5,
                    answerRetryAfter = $6 WHERE id = $1
                """, [id, now, answer.status, answer.contentType, answer.body, answer.retryAfter])
        }
    }
}
