import GRDB

/// What lets a host enroll itself: the fleet's enrollment secret (one at a time) or a
/// scoped token. Only the SHA-256 of either is kept; the text is printed once when made.
public struct EnrollmentCredential: Codable, Equatable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "enrollmentCredential"

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

    public enum Columns {
        public static let kind = Column(CodingKeys.kind)
        public static let digest = Column(CodingKeys.digest)
        public static let revokedAt = Column(CodingKeys.revokedAt)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

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

extension CollectorDatabase {
    /// The credential whose text hashes to `digest`, revoked or not.
    public func credential(digest: String) throws -> EnrollmentCredential? {
        try reader.read { db in try EnrollmentCredential.filter(EnrollmentCredential.Columns.digest == digest).fetchOne(db) }
    }

    /// Whether any secret or token could enroll a host at `now`: without one, enrollment is off.
    public func enrollmentIsOpen(now: Int64) throws -> Bool {
        try reader.read { db in
            try EnrollmentCredential.filter(EnrollmentCredential.Columns.revokedAt == nil).fetchAll(db)
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
            try EnrollmentCredential.filter(EnrollmentCredential.Columns.kind == EnrollmentCredential.Kind.secret.rawValue
                                            && EnrollmentCredential.Columns.revokedAt != nil && Column("replacedBy") == nil
                                            && Column("id") != secret.id)
                .updateAll(db, Column("replacedBy").set(to: secret.id))
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
        let live = EnrollmentCredential.filter(EnrollmentCredential.Columns.kind == EnrollmentCredential.Kind.secret.rawValue
                                               && EnrollmentCredential.Columns.revokedAt == nil)
        let ids = try Int64.fetchAll(db, live.select(Column("id")))
        try live.updateAll(db, EnrollmentCredential.Columns.revokedAt.set(to: now))
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
            try EnrollmentCredential.filter(EnrollmentCredential.Columns.kind == EnrollmentCredential.Kind.token.rawValue)
                .order(Column("id").desc).fetchAll(db)
        }
    }

    /// Revokes token `id`; false when there is no such token or it was revoked already.
    public func revokeToken(id: Int64, at now: Int64, by actor: String) throws -> Bool {
        try writer.write { db in
            let changed = try EnrollmentCredential.filter(key: id)
                .filter(EnrollmentCredential.Columns.kind == EnrollmentCredential.Kind.token.rawValue
                        && EnrollmentCredential.Columns.revokedAt == nil)
                .updateAll(db, EnrollmentCredential.Columns.revokedAt.set(to: now)) > 0
            if changed { try Self.audit(AuditEntry(at: now, action: .tokenRevoked, actor: actor, detail: "token #\(id)"), db) }
            return changed
        }
    }
}
