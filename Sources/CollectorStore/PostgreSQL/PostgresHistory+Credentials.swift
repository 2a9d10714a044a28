import Foundation
import PostgresClient

// The enrollment secret, tokens and the audit on PostgreSQL: as CollectorDatabase's, each
// change under `PGLocks.identity` (a secret rotated on two collectors at once leaves one
// in force, as the partial unique index requires).
extension PostgresHistory {
    public func credential(digest: String) throws -> EnrollmentCredential? {
        try read { connection in
            try connection.query("SELECT * FROM enrollmentCredential WHERE digest = $1", [digest]).first.map(EnrollmentCredential.init(pg:))
        }
    }

    public func enrollmentIsOpen(now: Int64) throws -> Bool {
        try read { connection in
            try connection.query("SELECT * FROM enrollmentCredential WHERE revokedAt IS NULL").map(EnrollmentCredential.init(pg:))
                .contains { $0.refusal(at: now) == nil }
        }
    }

    public func rotateSecret(digest: String, at now: Int64, by actor: String) throws {
        try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            let replaced = try Self.retireSecret(at: now, connection)
            var secret = EnrollmentCredential(kind: .secret, digest: digest, createdAt: now, createdBy: actor)
            try secret.insert(connection)
            // Secrets disabled before are replaced too: a host holding one is told to get
            // the current secret, not that enrollment by secret is off.
            try connection.execute("""
                UPDATE enrollmentCredential SET replacedBy = $1
                WHERE kind = 'secret' AND revokedAt IS NOT NULL AND replacedBy IS NULL AND id != $1
                """, [secret.id])
            try AuditEntry(at: now, action: .secretRotated, actor: actor,
                           detail: replaced.isEmpty ? "\(secret.actor) is the first" : "\(secret.actor) replaces the previous secret")
                .insert(connection)
        }
    }

    public func disableSecret(at now: Int64, by actor: String) throws -> Bool {
        try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            guard try !Self.retireSecret(at: now, connection).isEmpty else { return false }
            try AuditEntry(at: now, action: .secretDisabled, actor: actor, detail: "enrollment by secret is off").insert(connection)
            return true
        }
    }

    /// Revokes the secret in force, if any; its id.
    private static func retireSecret(at now: Int64, _ connection: PGConnection) throws -> [Int64] {
        try connection.query("""
            UPDATE enrollmentCredential SET revokedAt = $1 WHERE kind = 'secret' AND revokedAt IS NULL RETURNING id
            """, [now]).map { try $0.value("id") }
    }

    public func createToken(_ token: EnrollmentCredential, scope: String) throws -> EnrollmentCredential {
        try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            var token = token
            try token.insert(connection)
            try AuditEntry(at: token.createdAt, action: .tokenCreated, actor: token.createdBy, detail: "\(token.actor): \(scope)")
                .insert(connection)
            return token
        }
    }

    public func tokens() throws -> [EnrollmentCredential] {
        try read { connection in
            try connection.query("SELECT * FROM enrollmentCredential WHERE kind = 'token' ORDER BY id DESC").map(EnrollmentCredential.init(pg:))
        }
    }

    public func revokeToken(id: Int64, at now: Int64, by actor: String) throws -> Bool {
        try write { connection in
            try PGLocks.hold(PGLocks.identity, on: connection)
            let changed = try connection.execute("""
                UPDATE enrollmentCredential SET revokedAt = $1 WHERE id = $2 AND kind = 'token' AND revokedAt IS NULL
                """, [now, id]).affectedRows > 0
            if changed { try AuditEntry(at: now, action: .tokenRevoked, actor: actor, detail: "token #\(id)").insert(connection) }
            return changed
        }
    }

    public func audit(_ entry: AuditEntry) throws {
        try write { connection in try entry.insert(connection) }
    }

    public func auditEntries(since: Int64) throws -> [AuditEntry] {
        try read { connection in
            try connection.query("SELECT * FROM audit WHERE at >= $1 ORDER BY at, id", [since]).map(AuditEntry.init(pg:))
        }
    }
}
