internal import GRDB

/// What lets a host enroll itself: the fleet's enrollment secret (one at a time) or a
/// scoped token. Only the SHA-256 of either is kept; the text is printed once when made.
public struct EnrollmentCredential: Codable, Equatable, Sendable {
    static let databaseTableName = "enrollmentCredential"

    public enum Kind: String, Codable, Sendable {
        case secret, token
    }

    public var id: Int64?
    public var kind: Kind
    /// SHA-256 of the secret or token text, lowercase hex.
    public var digest: String
    /// The host-name pattern a token may enroll (`web-*`); nil: any name.
    public var names: String?
    /// Certificates a token may obtain; nil: no limit.
    public var maxUses: Int64?
    public var uses: Int64
    public var expiresAt: Int64?
    public var createdAt: Int64
    public var createdBy: String
    public var revokedAt: Int64?
    /// v7: the secret that replaced this one; a secret revoked without one was disabled
    /// (`enroll secret --disable`).
    public var replacedBy: Int64?

    public init(kind: Kind, digest: String, names: String? = nil, maxUses: Int64? = nil, expiresAt: Int64? = nil,
                createdAt: Int64, createdBy: String) {
        self.kind = kind
        self.digest = digest
        self.names = names
        self.maxUses = maxUses
        self.uses = 0
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.createdBy = createdBy
    }

    /// How the audit names it: `secret #2`, `token #5`.
    public var actor: String { "\(kind.rawValue) #\(id ?? 0)" }

    /// Why it cannot enroll anyone at `now`; nil when it can.
    public func refusal(at now: Int64) -> EnrollmentRefusal? {
        if let revokedAt {
            guard kind == .secret else { return .tokenRevoked(id: id ?? 0, at: revokedAt) }
            return replacedBy == nil ? .disabledSecret(at: revokedAt) : .replacedSecret(at: revokedAt)
        }
        if let expiresAt, expiresAt <= now { return .tokenExpired(id: id ?? 0, at: expiresAt) }
        if let maxUses, uses >= maxUses { return .tokenUsedUp(id: id ?? 0, uses: maxUses) }
        return nil
    }
}

extension EnrollmentCredential: RowRecord {
    init(row: Row) throws {
        id = row["id"]
        kind = try decoded(row, "kind")
        digest = row["digest"]
        names = row["names"]
        maxUses = row["maxUses"]
        uses = row["uses"]
        expiresAt = row["expiresAt"]
        createdAt = row["createdAt"]
        createdBy = row["createdBy"]
        revokedAt = row["revokedAt"]
        replacedBy = row["replacedBy"]
    }

    /// Inserts the credential; its id is set.
    mutating func insert(_ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO enrollmentCredential (kind, digest, names, maxUses, uses, expiresAt, createdAt, createdBy, revokedAt, replacedBy)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [kind.rawValue, digest, names, maxUses, uses, expiresAt, createdAt, createdBy, revokedAt, replacedBy])
        id = db.lastInsertedRowID
    }

    /// Writes the row back whole.
    func update(_ db: Database) throws {
        try db.execute(sql: """
            UPDATE enrollmentCredential SET kind = ?, digest = ?, names = ?, maxUses = ?, uses = ?, expiresAt = ?, createdAt = ?,
                createdBy = ?, revokedAt = ?, replacedBy = ? WHERE id = ?
            """, arguments: [kind.rawValue, digest, names, maxUses, uses, expiresAt, createdAt, createdBy, revokedAt, replacedBy, id])
    }
}

extension CollectorDatabase {
    /// The credential whose text hashes to `digest`, revoked or not.
    public func credential(digest: String) throws -> EnrollmentCredential? {
        try reader.read { db in
            try EnrollmentCredential.fetchOne(db, sql: "SELECT * FROM enrollmentCredential WHERE digest = ?", arguments: [digest])
        }
    }

    /// Whether any secret or token could enroll a host at `now`: without one, enrollment is off.
    public func enrollmentIsOpen(now: Int64) throws -> Bool {
        try reader.read { db in
            try EnrollmentCredential.fetchAll(db, sql: "SELECT * FROM enrollmentCredential WHERE revokedAt IS NULL")
                .contains { $0.refusal(at: now) == nil }
        }
    }

    /// Makes `digest` the enrollment secret; the one before it stops working at once
    /// (a running collector looks the secret up at every enrollment).
    public func rotateSecret(digest: String, at now: Int64, by actor: String) throws {
        try writer.write { db in
            let replaced = try Self.retireSecret(at: now, db)
            var secret = EnrollmentCredential(kind: .secret, digest: digest, createdAt: now, createdBy: actor)
            try secret.insert(db)
            // Secrets disabled before are replaced too: a host holding one is told to get
            // the current secret, not that enrollment by secret is off.
            try db.execute(sql: """
                UPDATE enrollmentCredential SET replacedBy = ?1
                WHERE kind = 'secret' AND revokedAt IS NOT NULL AND replacedBy IS NULL AND id != ?1
                """, arguments: [secret.id])
            try Self.audit(AuditEntry(at: now, action: .secretRotated, actor: actor,
                                      detail: replaced.isEmpty ? "\(secret.actor) is the first" : "\(secret.actor) replaces the previous secret"), db)
        }
    }

    /// Turns enrollment by secret off (tokens and `enroll sign` still work). Whether a secret was on.
    public func disableSecret(at now: Int64, by actor: String) throws -> Bool {
        try writer.write { db in
            guard try !Self.retireSecret(at: now, db).isEmpty else { return false }
            try Self.audit(AuditEntry(at: now, action: .secretDisabled, actor: actor, detail: "enrollment by secret is off"), db)
            return true
        }
    }

    /// Revokes the secret in force, if any; its id.
    private static func retireSecret(at now: Int64, _ db: Database) throws -> [Int64] {
        let ids = try Int64.fetchAll(db, sql: "SELECT id FROM enrollmentCredential WHERE kind = 'secret' AND revokedAt IS NULL")
        try db.execute(sql: "UPDATE enrollmentCredential SET revokedAt = ? WHERE kind = 'secret' AND revokedAt IS NULL",
                       arguments: [now])
        return ids
    }

    /// Stores a token (its digest) and audits it with `scope` (what it allows, as text);
    /// the token with its id.
    public func createToken(_ token: EnrollmentCredential, scope: String) throws -> EnrollmentCredential {
        try writer.write { db in
            var token = token
            try token.insert(db)
            try Self.audit(AuditEntry(at: token.createdAt, action: .tokenCreated, actor: token.createdBy,
                                      detail: "\(token.actor): \(scope)"), db)
            return token
        }
    }

    /// Every token, newest first.
    public func tokens() throws -> [EnrollmentCredential] {
        try reader.read { db in
            try EnrollmentCredential.fetchAll(db, sql: "SELECT * FROM enrollmentCredential WHERE kind = 'token' ORDER BY id DESC")
        }
    }

    /// Revokes token `id`; false when there is no such token or it was revoked already.
    public func revokeToken(id: Int64, at now: Int64, by actor: String) throws -> Bool {
        try writer.write { db in
            try db.execute(sql: "UPDATE enrollmentCredential SET revokedAt = ? WHERE id = ? AND kind = 'token' AND revokedAt IS NULL",
                           arguments: [now, id])
            let changed = db.changesCount > 0
            if changed { try Self.audit(AuditEntry(at: now, action: .tokenRevoked, actor: actor, detail: "token #\(id)"), db) }
            return changed
        }
    }
}
