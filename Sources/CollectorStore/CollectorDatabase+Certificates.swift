internal import GRDB

/// A host certificate the collector issued.
public struct IssuedCertificate: Codable, Equatable, Sendable {
    static let databaseTableName = "certificate"
    public var serial: String
    public var hostName: String
    public var fingerprint: String
    public var notAfter: Int64
    public var issuedAt: Int64
    public var revokedAt: Int64?
    /// v7: SHA-256 of the key it was issued to (as `EnrollmentRequest.keyFingerprint`);
    /// nil for certificates issued before, unless an enrollment request recorded it.
    public var keyFingerprint: String?
    /// v9: the serial this certificate renews; the serial that renewed this one; when it
    /// was first presented at a handshake (nil: never, or not since the upgrade).
    public var renews: String?
    public var renewedBy: String?
    public var firstPresentedAt: Int64?
    /// v9: the SHA-256 of the CA certificate that signed it; nil before v9.
    public var issuer: String?

    /// The name's current certificate: neither revoked nor renewed.
    public var isCurrent: Bool { revokedAt == nil && renewedBy == nil }

    public init(serial: String, hostName: String, fingerprint: String, notAfter: Int64, issuedAt: Int64,
                keyFingerprint: String? = nil, issuer: String? = nil) {
        self.serial = serial
        self.hostName = hostName
        self.fingerprint = fingerprint
        self.notAfter = notAfter
        self.issuedAt = issuedAt
        self.keyFingerprint = keyFingerprint
        self.issuer = issuer
    }

}

extension IssuedCertificate: RowRecord {
    init(row: Row) throws {
        self.init(serial: row["serial"], hostName: row["hostName"], fingerprint: row["fingerprint"], notAfter: row["notAfter"],
                  issuedAt: row["issuedAt"], keyFingerprint: row["keyFingerprint"])
        revokedAt = row["revokedAt"]
        renews = row["renews"]
        renewedBy = row["renewedBy"]
        firstPresentedAt = row["firstPresentedAt"]
        issuer = row["issuer"]
    }

    func insert(_ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO certificate (serial, hostName, fingerprint, notAfter, issuedAt, revokedAt, keyFingerprint, renews,
                                     renewedBy, firstPresentedAt, issuer)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [serial, hostName, fingerprint, notAfter, issuedAt, revokedAt, keyFingerprint, renews, renewedBy,
                             firstPresentedAt, issuer])
    }
}

extension CollectorDatabase {
    /// `portwarden enroll sign`: the operator's certificate for `sign`'s name, recorded in
    /// the transaction that supersedes the name's older certificates.
    @discardableResult
    public func recordSigned(by actor: String, at now: Int64, sign: () throws -> IssuedCertificate) throws -> IssuedCertificate {
        try writer.write { db in
            try Self.issue(sign, actor: actor, address: nil, detail: "signed by an operator", action: .certificateSigned,
                           at: now, db)
        }
    }

    /// Signs and records a certificate, revoking the name's older ones first (a renewed
    /// predecessor in its overlap too): a name has at most one current certificate (v9's
    /// unique index holds the store to it). The
    /// name's requests of this key are settled by it; other keys' waiting (or approved,
    /// uncollected) requests are superseded, so approving a stale one cannot take the
    /// name back from this certificate.
    static func issue(_ sign: () throws -> IssuedCertificate, actor: String, address: String?, detail: String,
                      action: AuditAction, at now: Int64, _ db: Database) throws -> IssuedCertificate {
        let certificate = try sign()
        let superseded = try revoked(host: certificate.hostName, at: now, db)
        try certificate.insert(db)
        try audit(RequestSettlement.issueEntry(certificate, action: action, actor: actor, address: address, detail: detail,
                                               superseded: superseded, at: now), db)
        try settleRequests(for: certificate, actor: actor, at: now, db)
        return certificate
    }

    /// Revokes every certificate issued to `host`; returns how many were still unrevoked.
    public func revoke(host: String, at now: Int64, by actor: String) throws -> Int {
        try writer.write { db in
            let serials = try Self.revoked(host: host, at: now, db)
            if !serials.isEmpty {
                try Self.audit(AuditEntry(at: now, action: .certificateRevoked, actor: actor, host: host,
                                          detail: "serial \(serials.joined(separator: ", "))"), db)
            }
            return serials.count
        }
    }

    /// Revokes `host`'s unrevoked certificates; their serials.
    static func revoked(host: String, at now: Int64, _ db: Database) throws -> [String] {
        let serials = try String.fetchAll(db, sql: "SELECT serial FROM certificate WHERE hostName = ? AND revokedAt IS NULL",
                                          arguments: [host])
        try db.execute(sql: "UPDATE certificate SET revokedAt = ? WHERE hostName = ? AND revokedAt IS NULL", arguments: [now, host])
        return serials
    }

    /// Whether `name` is stored anywhere exactly so — a name kept as an older release
    /// wrote it (see the v6 migration), which commands accept as typed.
    public func knowsName(_ name: String) throws -> Bool {
        try reader.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM certificate WHERE hostName = ?1) OR EXISTS (SELECT 1 FROM host WHERE name = ?1)
                    OR EXISTS (SELECT 1 FROM hostTag WHERE hostName = ?1)
                """, arguments: [name]) ?? false
        }
    }

    /// The certificates issued to `host` (every host's, when nil), oldest first.
    public func certificates(host: String?) throws -> [IssuedCertificate] {
        try reader.read { db in
            try IssuedCertificate.fetchAll(db, sql: """
                SELECT * FROM certificate WHERE ?1 IS NULL OR hostName = ?1 ORDER BY issuedAt, rowid
                """, arguments: [host])
        }
    }

    /// Whether the certificate with `serial` was revoked. Synchronous on purpose: the
    /// TLS layer asks once per connection, before the first request is read — so the
    /// statement is written out and cached rather than built per handshake. A list that
    /// cannot be read counts as revoked: refusing is the safe side.
    public func isRevoked(serial: String) -> Bool {
        (try? reader.read { db in
            try Bool.fetchOne(db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM certificate WHERE serial = ? AND revokedAt IS NOT NULL)
                """), arguments: [serial])
        }) ?? true
    }
}
