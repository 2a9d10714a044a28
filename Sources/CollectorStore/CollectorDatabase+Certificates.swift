import GRDB

/// A host certificate the collector issued.
public struct IssuedCertificate: Codable, Equatable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "certificate"
    public var serial: String
    public var hostName: String
    public var fingerprint: String
    public var notAfter: Int64
    public var issuedAt: Int64
    public var revokedAt: Int64?

    public init(serial: String, hostName: String, fingerprint: String, notAfter: Int64, issuedAt: Int64) {
        self.serial = serial
        self.hostName = hostName
        self.fingerprint = fingerprint
        self.notAfter = notAfter
        self.issuedAt = issuedAt
    }

    public enum Columns {
        public static let hostName = Column(CodingKeys.hostName)
        public static let revokedAt = Column(CodingKeys.revokedAt)
        public static let notAfter = Column(CodingKeys.notAfter)
    }
}

extension CollectorDatabase {
    public func recordIssued(_ certificate: IssuedCertificate) throws {
        try writer.write { try certificate.insert($0) }
    }

    /// Revokes every certificate issued to `host`; returns how many were still valid.
    public func revoke(host: String, at now: Int64) throws -> Int {
        try writer.write { db in try Self.revoke(host: host, at: now, db) }
    }

    static func revoke(host: String, at now: Int64, _ db: Database) throws -> Int {
        try IssuedCertificate
            .filter(IssuedCertificate.Columns.hostName == host && IssuedCertificate.Columns.revokedAt == nil)
            .updateAll(db, IssuedCertificate.Columns.revokedAt.set(to: now))
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
