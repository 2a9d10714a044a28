internal import GRDB
import PortwardenModel

/// An enrollment that needs an operator: one key asking for one name, from one address.
/// It waits until approved (for that key only), refused, superseded (another key was
/// issued the name), or expired.
public struct EnrollmentRequest: Codable, Equatable, Sendable {
    static let databaseTableName = "enrollmentRequest"
    public var id: Int64?
    public var hostName: String
    /// SHA-256 of the requesting key (DER), lowercase hex: approval covers that key only.
    public var keyFingerprint: String
    public var requestedAt: Int64
    public var approvedAt: Int64?
    public var issuedSerial: String?
    /// v6: where it came from, until when it may be approved (or, once approved,
    /// collected), an operator's refusal, why it waits, and the secret or token it showed.
    public var address: String?
    public var expiresAt: Int64
    public var refusedAt: Int64?
    public var reason: String?
    public var credential: String?
    /// v7: when a certificate for another key was issued the name, and its serial.
    public var supersededAt: Int64?
    public var supersededBy: String?

    /// Neither issued nor refused (SQL): what `enroll pending` lists until it expires,
    /// superseded ones included.
    static let unsettled = "issuedSerial IS NULL AND refusedAt IS NULL"

    /// Unsettled and not superseded (SQL): what an operator may approve.
    static let undecided = "\(unsettled) AND supersededAt IS NULL"

    /// `waiting`, `approved` or `superseded`, as `enroll pending` shows it.
    public var state: String {
        supersededAt != nil ? "superseded" : approvedAt != nil ? "approved" : "waiting"
    }
}

extension EnrollmentRequest: RowRecord {
    init(row: Row) throws {
        self.init(id: row["id"], hostName: row["hostName"], keyFingerprint: row["keyFingerprint"], requestedAt: row["requestedAt"],
                  approvedAt: row["approvedAt"], issuedSerial: row["issuedSerial"], address: row["address"],
                  expiresAt: row["expiresAt"], refusedAt: row["refusedAt"], reason: row["reason"], credential: row["credential"],
                  supersededAt: row["supersededAt"], supersededBy: row["supersededBy"])
    }

    /// Inserts the request; its id is set.
    mutating func insert(_ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO enrollmentRequest (hostName, keyFingerprint, requestedAt, approvedAt, issuedSerial, address, expiresAt,
                                           refusedAt, reason, credential, supersededAt, supersededBy)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [hostName, keyFingerprint, requestedAt, approvedAt, issuedSerial, address, expiresAt, refusedAt, reason,
                             credential, supersededAt, supersededBy])
        id = db.lastInsertedRowID
    }

    /// Writes the row back whole.
    func update(_ db: Database) throws {
        try db.execute(sql: """
            UPDATE enrollmentRequest SET hostName = ?, keyFingerprint = ?, requestedAt = ?, approvedAt = ?, issuedSerial = ?,
                address = ?, expiresAt = ?, refusedAt = ?, reason = ?, credential = ?, supersededAt = ?, supersededBy = ?
            WHERE id = ?
            """, arguments: [hostName, keyFingerprint, requestedAt, approvedAt, issuedSerial, address, expiresAt, refusedAt, reason,
                             credential, supersededAt, supersededBy, id])
    }
}

/// A host's enrollment as the collector weighs it.
public struct EnrollmentAttempt: Sendable {
    /// The name, already in normal form (`HostName.normalized`).
    public var host: String
    public var keyFingerprint: String
    /// The secret or token it showed, already found by its digest.
    public var credentialID: Int64
    public var address: String?
    /// Why the policy in force singles the name out (each entry that matches it by name,
    /// as a sentence): a self-chosen name that a policy treats by name is not issued
    /// without an operator.
    public var policyReasons: [String]
    /// Seconds a new request waits for an operator before it expires.
    public var requestTTL: Int64
    public var now: Int64

    public init(host: String, keyFingerprint: String, credentialID: Int64, address: String?, policyReasons: [String],
                requestTTL: Int64, now: Int64) {
        self.host = host
        self.keyFingerprint = keyFingerprint
        self.credentialID = credentialID
        self.address = address
        self.policyReasons = policyReasons
        self.requestTTL = requestTTL
        self.now = now
    }
}

public enum EnrollmentOutcome: Sendable, Equatable {
    case issued(IssuedCertificate)
    /// Waiting for `portwarden enroll approve NAME --fingerprint FP`.
    case pending(EnrollmentRequest)
    case refused(EnrollmentRefusal)
}

/// Why an enrollment is refused (the host must change something, or wait).
public enum EnrollmentRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownCredential
    case replacedSecret(at: Int64)
    case disabledSecret(at: Int64)
    case tokenRevoked(id: Int64, at: Int64)
    case tokenExpired(id: Int64, at: Int64)
    case tokenUsedUp(id: Int64, uses: Int64)
    case outsideToken(id: Int64, names: String)
    case keyRefused(at: Int64)
    /// `count` requests wait for the name — from `source` (the address, or its /64) when
    /// that one source's cap was reached, else from anywhere; the first lapses at `until`.
    case tooManyWaiting(count: Int, source: String?, until: Int64)

    /// For the audit: short, no times (the entry has its own).
    public var description: String {
        switch self {
        case .unknownCredential: "wrong enrollment secret or token"
        case .replacedSecret: "a replaced enrollment secret"
        case .disabledSecret: "a disabled enrollment secret (enrollment by secret was turned off)"
        case .tokenRevoked(let id, _): "token #\(id) is revoked"
        case .tokenExpired(let id, _): "token #\(id) has expired"
        case .tokenUsedUp(let id, let uses): "token #\(id) is used up (\(uses) use\(uses == 1 ? "" : "s"))"
        case .outsideToken(let id, let names): "the name is outside token #\(id)'s names \(names)"
        case .keyRefused: "an operator refused this key for this name"
        case .tooManyWaiting(let count, let source?, _): "\(source) asked for this name \(count) times within request_ttl"
        case .tooManyWaiting(let count, nil, _): "\(count) requests already wait for this name"
        }
    }
}

extension EnrollmentRequest {
    /// Requests one source (an IPv4 address, an IPv6 /64) may have for one name within
    /// `request_ttl` — waiting, approved, refused or superseded alike, so refusing them
    /// does not make room for that source again. A reinstall asks once; three covers it
    /// being redone twice in a day, while one address cannot fill the name's list.
    public static let maxWaitingPerSource = 3
    /// Requests that may wait for one name at once: ten sources' worth. Beyond, new keys
    /// get 429 until an operator answers (`enroll refuse` makes room, and a refused
    /// source still counts its own) or requests expire; `enroll pending` stays readable.
    public static let maxWaitingPerName = 30
}

extension CollectorDatabase {
    /// Decides an enrollment (`EnrollmentDecision`) and, when it is issued, signs and
    /// records the certificate — all in one write transaction, so parallel attempts for
    /// one name see each other: exactly one is issued. `sign` makes the certificate.
    public func enroll(_ attempt: EnrollmentAttempt, sign: () throws -> IssuedCertificate) throws -> EnrollmentOutcome {
        try writer.write { db in
            let credential = try EnrollmentCredential.fetchOne(db, sql: "SELECT * FROM enrollmentCredential WHERE id = ?",
                                                               arguments: [attempt.credentialID])
            let facts = EnrollmentFacts(
                credential: credential,
                certificates: try IssuedCertificate.fetchAll(db, sql: "SELECT * FROM certificate WHERE hostName = ? ORDER BY rowid",
                                                             arguments: [attempt.host]),
                hostReported: try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM host WHERE name = ?)", arguments: [attempt.host])!,
                assignedTags: try HostTag.filter(HostTag.Columns.hostName == attempt.host && HostTag.Columns.assigned == true)
                    .fetchAll(db).map(\.tag),
                requests: try EnrollmentRequest.fetchAll(db, sql: "SELECT * FROM enrollmentRequest WHERE hostName = ? ORDER BY id",
                                                         arguments: [attempt.host]))
            return try EnrollmentDecision.decide(attempt, facts).outcome(
                attempt, sign: sign, audit: { try Self.audit($0, db) }, insert: { try $0.insert(db) },
                issue: { sign, actor, detail in
                    try Self.issue(sign, actor: actor, address: attempt.address, detail: detail, action: .enrollIssued, at: attempt.now, db)
                },
                used: {
                    try db.execute(sql: "UPDATE enrollmentCredential SET uses = uses + 1 WHERE id = ?", arguments: [attempt.credentialID])
                })
        }
    }
}
