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
    /// Decides an enrollment and, when it is issued, signs and records the certificate —
    /// all in one write transaction, so parallel attempts for one name see each other:
    /// exactly one is issued. A name that ever held a certificate or belongs to a host
    /// that reported, that the policy singles out by name, or that an operator tagged,
    /// waits for an operator to approve this key. `sign` makes the certificate.
    public func enroll(_ attempt: EnrollmentAttempt, sign: () throws -> IssuedCertificate) throws -> EnrollmentOutcome {
        try writer.write { db in
            let now = attempt.now
            func audit(_ action: AuditAction, _ actor: String, _ detail: String) throws {
                try Self.audit(AuditEntry(at: now, action: action, actor: actor, host: attempt.host, address: attempt.address,
                                          detail: "key \(attempt.keyFingerprint.prefix(16)): \(detail)"), db)
            }
            guard var credential = try EnrollmentCredential.fetchOne(db, sql: "SELECT * FROM enrollmentCredential WHERE id = ?",
                                                                     arguments: [attempt.credentialID]) else {
                try audit(.enrollRefused, "unknown credential", EnrollmentRefusal.unknownCredential.description)
                return .refused(.unknownCredential)
            }
            if let refusal = credential.refusal(at: now) {
                try audit(.enrollRefused, credential.actor, refusal.description)
                return .refused(refusal)
            }
            let reasons = try Self.approvalReasons(attempt, db)
            var approved = false
            if !reasons.isEmpty {
                let mine = "SELECT * FROM enrollmentRequest WHERE hostName = ? AND keyFingerprint = ?"
                let key: StatementArguments = [attempt.host, attempt.keyFingerprint]
                if let refused = try EnrollmentRequest.fetchOne(db, sql: mine + " AND refusedAt IS NOT NULL", arguments: key) {
                    let refusal = EnrollmentRefusal.keyRefused(at: refused.refusedAt!)
                    try audit(.enrollRefused, credential.actor, refusal.description)
                    return .refused(refusal)
                }
                let open = try EnrollmentRequest.fetchOne(
                    db, sql: mine + " AND issuedSerial IS NULL AND supersededAt IS NULL AND expiresAt > ?", arguments: key + [now])
                if let open, open.approvedAt != nil {
                    approved = true
                } else if let open {
                    try audit(.enrollPending, credential.actor, "asked again; waits for an operator (\(open.reason ?? ""))")
                    return .pending(open)
                } else {
                    if let refusal = try Self.waitingRefusal(attempt, db) {
                        try audit(.enrollRefused, credential.actor, refusal.description)
                        return .refused(refusal)
                    }
                    var request = EnrollmentRequest(
                        hostName: attempt.host, keyFingerprint: attempt.keyFingerprint, requestedAt: now, address: attempt.address,
                        expiresAt: now + attempt.requestTTL, reason: reasons.joined(separator: "; "), credential: credential.actor)
                    try request.insert(db)
                    try audit(.enrollPending, credential.actor, "waits for an operator: \(request.reason!)")
                    return .pending(request)
                }
            }
            let key = attempt.keyFingerprint
            let certificate = try Self.issue({
                var certificate = try sign()
                certificate.keyFingerprint = key  // what settles this key's approved request
                return certificate
            }, actor: credential.actor, address: attempt.address,
               detail: approved ? "key \(key.prefix(16)), approved by an operator" : "key \(key.prefix(16)), a name never used",
               action: .enrollIssued, at: now, db)
            credential.uses += 1
            try credential.update(db)
            return .issued(certificate)
        }
    }

    /// The caps on waiting requests, counted over the name's requests still within their
    /// time: nil when a new one may wait.
    static func waitingRefusal(_ attempt: EnrollmentAttempt, _ db: Database) throws -> EnrollmentRefusal? {
        let live = try EnrollmentRequest.fetchAll(db, sql: """
            SELECT * FROM enrollmentRequest WHERE hostName = ? AND issuedSerial IS NULL AND expiresAt > ?
            """, arguments: [attempt.host, attempt.now])
        let source = attempt.address.flatMap(IPAddress.init)
        let fromSource = live.filter { $0.address.flatMap(IPAddress.init)?.source == source?.source }
        if fromSource.count >= EnrollmentRequest.maxWaitingPerSource {
            return .tooManyWaiting(count: fromSource.count, source: source?.sourceDescription ?? "an unknown address",
                                   until: fromSource.map(\.expiresAt).min()!)
        }
        let waiting = live.filter { $0.refusedAt == nil && $0.supersededAt == nil }
        if waiting.count >= EnrollmentRequest.maxWaitingPerName {
            return .tooManyWaiting(count: waiting.count, source: nil, until: waiting.map(\.expiresAt).min()!)
        }
        return nil
    }

    /// Why this name needs an operator, as sentences; empty when it may be issued at once.
    static func approvalReasons(_ attempt: EnrollmentAttempt, _ db: Database) throws -> [String] {
        var reasons: [String] = []
        let certificates = try IssuedCertificate.fetchAll(db, sql: "SELECT * FROM certificate WHERE hostName = ?",
                                                          arguments: [attempt.host])
        if let held = heldReason(certificates, key: attempt.keyFingerprint, now: attempt.now) {
            reasons.append(held)
        } else if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM host WHERE name = ?)", arguments: [attempt.host])! {
            reasons.append("a host by this name has reported")
        }
        reasons += attempt.policyReasons
        let assigned = try HostTag.filter(HostTag.Columns.hostName == attempt.host && HostTag.Columns.assigned == true)
            .fetchAll(db).map(\.tag)
        if !assigned.isEmpty { reasons.append("an operator tagged it \(assigned.sorted().joined(separator: ", "))") }
        return reasons
    }

    /// What the name's certificates say to an operator about a new key for it: the one in
    /// force (held by this key or another), else the newest — revoked or expired.
    static func heldReason(_ certificates: [IssuedCertificate], key: String, now: Int64) -> String? {
        func time(_ seconds: Int64) -> String { Timestamp.rfc3339(seconds) }
        // While a renewal's overlap lasts, the renewed certificate is the name's, not its predecessor.
        let valid = certificates.filter { $0.revokedAt == nil && $0.notAfter > now }
        if let current = valid.first(where: \.isCurrent) ?? valid.first {
            if current.keyFingerprint == key {
                return "this key already holds the name's current certificate (serial \(current.serial), valid until \(time(current.notAfter)))"
            }
            // Certificates from before v7 may not say their key.
            return "the name's certificate is valid until \(time(current.notAfter)) (serial \(current.serial))"
                + (current.keyFingerprint == nil ? "" : ", held by another key")
        }
        guard let newest = certificates.max(by: { ($0.issuedAt, $0.notAfter) < ($1.issuedAt, $1.notAfter) }) else { return nil }
        if let revokedAt = newest.revokedAt {
            return "the name's certificate was revoked at \(time(revokedAt)) (serial \(newest.serial))"
        }
        return "the name's certificate expired at \(time(newest.notAfter)) (serial \(newest.serial))"
    }
}
