import GRDB

/// An enrollment waiting for, or given, an operator's approval.
public struct EnrollmentRequest: Codable, Equatable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "enrollmentRequest"
    public var id: Int64?
    public var hostName: String
    /// SHA-256 of the requesting key: approval covers that key only.
    public var keyFingerprint: String
    public var requestedAt: Int64
    public var approvedAt: Int64?
    public var issuedSerial: String?

    public enum Columns {
        public static let hostName = Column(CodingKeys.hostName)
        public static let keyFingerprint = Column(CodingKeys.keyFingerprint)
        public static let approvedAt = Column(CodingKeys.approvedAt)
        public static let issuedSerial = Column(CodingKeys.issuedSerial)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension CollectorDatabase {
    /// What to do with an enrollment for `host` by the key `keyFingerprint`.
    public enum EnrollmentDecision: Equatable, Sendable {
        /// No valid certificate holds the name: issue.
        case issue
        /// An operator approved this key for this name: issue, revoking the old certificates.
        case issueReplacing
        /// The name is held: recorded, waiting for `portwarden enroll approve`.
        case pending
    }

    public func decideEnrollment(host: String, keyFingerprint: String, now: Int64) throws -> EnrollmentDecision {
        try writer.write { db in
            let held = try IssuedCertificate.filter(IssuedCertificate.Columns.hostName == host
                                                    && IssuedCertificate.Columns.revokedAt == nil
                                                    && IssuedCertificate.Columns.notAfter > now).fetchCount(db) > 0
            if !held { return .issue }
            let mine = EnrollmentRequest.filter(EnrollmentRequest.Columns.hostName == host
                                                && EnrollmentRequest.Columns.keyFingerprint == keyFingerprint
                                                && EnrollmentRequest.Columns.issuedSerial == nil)
            if try mine.filter(EnrollmentRequest.Columns.approvedAt != nil).fetchCount(db) > 0 { return .issueReplacing }
            if try mine.fetchCount(db) == 0 {
                var request = EnrollmentRequest(hostName: host, keyFingerprint: keyFingerprint, requestedAt: now)
                try request.insert(db)
            }
            return .pending
        }
    }

    /// Records a certificate issued by enrollment; when it replaces others, revokes them
    /// and closes the approved request, in one transaction.
    public func recordEnrolled(_ certificate: IssuedCertificate, keyFingerprint: String, replacing: Bool) throws {
        try writer.write { db in
            if replacing {
                _ = try Self.revoke(host: certificate.hostName, at: certificate.issuedAt, db)
                try EnrollmentRequest.filter(EnrollmentRequest.Columns.hostName == certificate.hostName
                                             && EnrollmentRequest.Columns.keyFingerprint == keyFingerprint
                                             && EnrollmentRequest.Columns.issuedSerial == nil)
                    .updateAll(db, EnrollmentRequest.Columns.issuedSerial.set(to: certificate.serial))
            }
            try certificate.insert(db)
        }
    }

    /// Approves the waiting enrollments of `host`; returns how many.
    public func approveEnrollment(host: String, now: Int64) throws -> Int {
        try writer.write { db in
            try EnrollmentRequest.filter(EnrollmentRequest.Columns.hostName == host
                                         && EnrollmentRequest.Columns.approvedAt == nil
                                         && EnrollmentRequest.Columns.issuedSerial == nil)
                .updateAll(db, EnrollmentRequest.Columns.approvedAt.set(to: now))
        }
    }
}
