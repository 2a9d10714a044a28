internal import GRDB

/// How the collector stands on a client certificate that chains to the fleet CA: what
/// the TLS layer asks at every handshake (resumed ones included).
public enum CertificateStanding: Sendable, Equatable {
    case accepted
    /// Accepted, and never presented before: its first presentation is to be recorded
    /// (`markPresented`), which ends its predecessor's overlap.
    case firstPresentation
    /// Revoked by an operator (or by re-enrolling the name).
    case revoked
    /// A newer certificate of its name has been presented: this one is retired.
    case superseded
    /// Not on record: it chains to a CA the collector trusts but was not issued here (a
    /// database restored from before it was issued, or a CA key in other hands).
    case unrecorded

    public var isRefused: Bool { self == .revoked || self == .superseded }
}

/// A host asking, over mutual TLS with its certificate `presented`, for a certificate for
/// a new key under the same name.
public struct RenewalAttempt: Sendable {
    /// The presented certificate's serial and name (normal form).
    public var presented: String
    public var host: String
    public var keyFingerprint: String
    public var address: String?
    public var now: Int64

    public init(presented: String, host: String, keyFingerprint: String, address: String?, now: Int64) {
        self.presented = presented
        self.host = host
        self.keyFingerprint = keyFingerprint
        self.address = address
        self.now = now
    }
}

/// Why a renewal is refused; the host must enroll again (an operator's business).
public enum RenewalRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// The presented certificate is not on record (issued by another collector's CA?).
    case unknown(serial: String)
    case revoked(serial: String, at: Int64)
    /// Already renewed: only the name's newest certificate renews.
    case renewed(serial: String, by: String)
    case otherName(serial: String, holder: String)
    case sameKey
    /// The key of an earlier certificate of the name (`serial`): a key once replaced is
    /// never certified again, so a copy of it stolen since is worth nothing.
    case reusedKey(serial: String)
    /// The name renewed `CollectorDatabase.renewalsPerHour` times in the last hour (each
    /// a signature and records): asked again after `retryAfter` seconds.
    case throttled(retryAfter: Int64)

    public var description: String {
        switch self {
        case .unknown(let serial): "certificate \(serial) is not one this collector issued"
        case .revoked(let serial, _): "certificate \(serial) is revoked"
        case .renewed(let serial, let by): "certificate \(serial) was already renewed (by \(by)): renew with the newer one"
        case .otherName(let serial, let holder): "certificate \(serial) was issued to \(holder), not to the name asked for"
        case .sameKey: "the request carries the key of the certificate it renews: renewal takes a new key"
        case .reusedKey(let serial): "the request carries the key of certificate \(serial), which this name held before: renewal takes a new key"
        case .throttled(let wait): "this name renewed \(CollectorDatabase.renewalsPerHour) times in the last hour: try again in \(wait) s"
        }
    }
}

extension CollectorDatabase {
    /// Renewals a name may have in an hour: one is due every few weeks, and an answer
    /// lost on the way is asked for again; a host asking more often is refused (it costs
    /// a signature and records each time) until the oldest of them is an hour old.
    public static let renewalsPerHour = 4

    /// Decides a renewal and, when granted, records the certificate `sign` makes — in one
    /// write transaction: the presented certificate must be the name's current one
    /// (unrevoked, not renewed already), for another key. The new certificate records the
    /// serial it renews; the old one stays accepted until the new one is first presented.
    public func renew(_ attempt: RenewalAttempt, sign: () throws -> IssuedCertificate) throws -> Result<IssuedCertificate, RenewalRefusal> {
        try writer.write { db in
            let old = try IssuedCertificate.fetchOne(db, sql: "SELECT * FROM certificate WHERE serial = ?", arguments: [attempt.presented])
            let named = try old.map {
                try IssuedCertificate.fetchAll(db, sql: "SELECT * FROM certificate WHERE hostName = ? ORDER BY rowid", arguments: [$0.hostName])
            } ?? []
            switch RenewalDecision.decide(attempt, old: old, named: named) {
            case .refused(let refusal, let audited):
                if audited { try Self.audit(RenewalDecision.refusalEntry(attempt, refusal), db) }
                return .failure(refusal)
            case .grant(let successor):
                let old = old!
                if let successor {
                    try db.execute(sql: "UPDATE certificate SET revokedAt = ? WHERE serial = ?", arguments: [attempt.now, successor])
                }
                let certificate = RenewalDecision.renewing(old, attempt, signed: try sign())
                // Presented now, whether or not the handshake's own record has landed yet.
                try db.execute(sql: """
                    UPDATE certificate SET renewedBy = ?, firstPresentedAt = COALESCE(firstPresentedAt, ?) WHERE serial = ?
                    """, arguments: [certificate.serial, attempt.now, old.serial])
                try certificate.insert(db)
                try Self.audit(RenewalDecision.grantEntry(attempt, old: old, new: certificate), db)
                try Self.settleRequests(for: certificate, actor: "certificate \(old.serial)", at: attempt.now, db)
                return .success(certificate)
            }
        }
    }

    /// How the collector stands on the certificate with `serial`: one cached read, made
    /// at every handshake. A serial not on record is `unrecorded` (the caller decides); a
    /// store that cannot be read refuses: the safe side. One statement is its own read
    /// transaction, so it reads outside GRDB's: a BEGIN and a COMMIT cost more than the
    /// query, at every handshake.
    public func standing(serial: String) -> CertificateStanding {
        let found: Int?
        do {
            found = try reader.unsafeRead { db in
            try Int.fetchOne(db.cachedStatement(sql: """
                SELECT CASE WHEN c.revokedAt IS NOT NULL THEN 1
                            WHEN EXISTS (SELECT 1 FROM certificate n WHERE n.hostName = c.hostName AND n.rowid > c.rowid
                                         AND n.firstPresentedAt IS NOT NULL) THEN 2
                            WHEN c.firstPresentedAt IS NULL THEN 3
                            ELSE 0 END
                FROM certificate c WHERE c.serial = ?
                """), arguments: [serial])
            }
        } catch {
            return .revoked
        }
        return switch found {
        case nil: .unrecorded
        case 1: .revoked
        case 2: .superseded
        case 3: .firstPresentation
        default: .accepted
        }
    }

    /// How many names' current certificates (not revoked, not renewed) end before `before`,
    /// the ended ones included: hosts that have not renewed.
    public func currentCertificatesEnding(before: Int64) throws -> Int {
        try reader.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM certificate WHERE revokedAt IS NULL AND renewedBy IS NULL AND notAfter < ?
                """, arguments: [before]) ?? 0
        }
    }

    /// Records that the certificate with `serial` was presented at a handshake, once: from
    /// then on its name's older certificates are refused.
    public func markPresented(serial: String, at now: Int64) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE certificate SET firstPresentedAt = ? WHERE serial = ? AND firstPresentedAt IS NULL",
                           arguments: [now, serial])
        }
    }
}
