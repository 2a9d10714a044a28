import GRDB

/// An enrollment that needs an operator: one key asking for one name, from one address.
/// It waits until approved (for that key only), refused, or expired.
public struct EnrollmentRequest: Codable, Equatable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "enrollmentRequest"
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

    public enum Columns {
        public static let hostName = Column(CodingKeys.hostName)
        public static let keyFingerprint = Column(CodingKeys.keyFingerprint)
        public static let approvedAt = Column(CodingKeys.approvedAt)
        public static let issuedSerial = Column(CodingKeys.issuedSerial)
        public static let expiresAt = Column(CodingKeys.expiresAt)
        public static let refusedAt = Column(CodingKeys.refusedAt)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// Neither issued nor refused: what `enroll pending` lists until it expires.
    static var undecided: QueryInterfaceRequest<EnrollmentRequest> {
        filter(Columns.issuedSerial == nil && Columns.refusedAt == nil)
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
    /// The tags the policy's inventory gives the name: a self-chosen name that carries a
    /// tag is not issued without an operator.
    public var inventoryTags: [String]
    /// Seconds a new request waits for an operator before it expires.
    public var requestTTL: Int64
    public var now: Int64

    public init(host: String, keyFingerprint: String, credentialID: Int64, address: String?, inventoryTags: [String],
                requestTTL: Int64, now: Int64) {
        self.host = host
        self.keyFingerprint = keyFingerprint
        self.credentialID = credentialID
        self.address = address
        self.inventoryTags = inventoryTags
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

/// Why an enrollment is refused for good (the host must change something).
public enum EnrollmentRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownCredential
    case replacedSecret(at: Int64)
    case tokenRevoked(id: Int64, at: Int64)
    case tokenExpired(id: Int64, at: Int64)
    case tokenUsedUp(id: Int64, uses: Int64)
    case outsideToken(id: Int64, names: String)
    case keyRefused(at: Int64)
    case tooManyWaiting(count: Int)

    /// For the audit: short, no times (the entry has its own).
    public var description: String {
        switch self {
        case .unknownCredential: "wrong enrollment secret or token"
        case .replacedSecret: "a replaced enrollment secret"
        case .tokenRevoked(let id, _): "token #\(id) is revoked"
        case .tokenExpired(let id, _): "token #\(id) has expired"
        case .tokenUsedUp(let id, let uses): "token #\(id) is used up (\(uses) use\(uses == 1 ? "" : "s"))"
        case .outsideToken(let id, let names): "the name is outside token #\(id)'s names \(names)"
        case .keyRefused: "an operator refused this key for this name"
        case .tooManyWaiting(let count): "\(count) requests already wait for this name"
        }
    }
}

extension CollectorDatabase {
    /// Requests waiting for one name at once, at most: beyond, new keys are refused until
    /// an operator answers (`enroll pending` shows them).
    public static let maxWaitingPerName = 10

    /// Decides an enrollment and, when it is issued, signs and records the certificate —
    /// all in one write transaction, so parallel attempts for one name see each other:
    /// exactly one is issued. A name that ever held a certificate or belongs to a host
    /// that reported, or that a tag is given to (by the inventory or `hosts tag`), waits
    /// for an operator to approve this key. `sign` makes the certificate.
    public func enroll(_ attempt: EnrollmentAttempt, sign: () throws -> IssuedCertificate) throws -> EnrollmentOutcome {
        try writer.write { db in
            let now = attempt.now
            func audit(_ action: AuditAction, _ actor: String, _ detail: String) throws {
                try Self.audit(AuditEntry(at: now, action: action, actor: actor, host: attempt.host, address: attempt.address,
                                          detail: "key \(attempt.keyFingerprint.prefix(16)): \(detail)"), db)
            }
            guard var credential = try EnrollmentCredential.fetchOne(db, key: attempt.credentialID) else {
                try audit(.enrollRefused, "unknown credential", EnrollmentRefusal.unknownCredential.description)
                return .refused(.unknownCredential)
            }
            if let refusal = credential.refusal(at: now) {
                try audit(.enrollRefused, credential.actor, refusal.description)
                return .refused(refusal)
            }
            let reasons = try Self.approvalReasons(attempt, db)
            var approved: EnrollmentRequest?
            if !reasons.isEmpty {
                let mine = EnrollmentRequest.filter(EnrollmentRequest.Columns.hostName == attempt.host
                                                    && EnrollmentRequest.Columns.keyFingerprint == attempt.keyFingerprint)
                if let refused = try mine.filter(EnrollmentRequest.Columns.refusedAt != nil).fetchOne(db) {
                    let refusal = EnrollmentRefusal.keyRefused(at: refused.refusedAt!)
                    try audit(.enrollRefused, credential.actor, refusal.description)
                    return .refused(refusal)
                }
                let open = try mine.filter(EnrollmentRequest.Columns.issuedSerial == nil && EnrollmentRequest.Columns.expiresAt > now)
                    .fetchOne(db)
                if let open, open.approvedAt != nil {
                    approved = open
                } else if let open {
                    try audit(.enrollPending, credential.actor, "asked again; waits for an operator (\(open.reason ?? ""))")
                    return .pending(open)
                } else {
                    let waiting = try EnrollmentRequest.undecided
                        .filter(EnrollmentRequest.Columns.hostName == attempt.host && EnrollmentRequest.Columns.expiresAt > now)
                        .fetchCount(db)
                    guard waiting < Self.maxWaitingPerName else {
                        let refusal = EnrollmentRefusal.tooManyWaiting(count: waiting)
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
            let certificate = try Self.issue(sign, actor: credential.actor, address: attempt.address,
                                             detail: approved.map { _ in "key \(attempt.keyFingerprint.prefix(16)), approved by an operator" }
                                                 ?? "key \(attempt.keyFingerprint.prefix(16)), a name never used", action: .enrollIssued,
                                             at: now, db)
            if var approved {
                approved.issuedSerial = certificate.serial
                try approved.update(db)
            }
            credential.uses += 1
            try credential.update(db)
            return .issued(certificate)
        }
    }

    /// Why this name needs an operator, as sentences; empty when it may be issued at once.
    static func approvalReasons(_ attempt: EnrollmentAttempt, _ db: Database) throws -> [String] {
        var reasons: [String] = []
        if try IssuedCertificate.filter(IssuedCertificate.Columns.hostName == attempt.host).fetchCount(db) > 0 {
            reasons.append("the name has held a certificate")
        } else if try HostRecord.filter(HostRecord.Columns.name == attempt.host).fetchCount(db) > 0 {
            reasons.append("a host by this name has reported")
        }
        if !attempt.inventoryTags.isEmpty {
            reasons.append("the inventory tags it \(attempt.inventoryTags.sorted().joined(separator: ", "))")
        }
        let assigned = try HostTag.filter(HostTag.Columns.hostName == attempt.host && HostTag.Columns.assigned == true)
            .fetchAll(db).map(\.tag)
        if !assigned.isEmpty { reasons.append("an operator tagged it \(assigned.sorted().joined(separator: ", "))") }
        return reasons
    }

    /// Requests an operator may still answer (or, approved, the host may still collect),
    /// oldest first.
    public func openRequests(now: Int64) throws -> [EnrollmentRequest] {
        try reader.read { db in
            try EnrollmentRequest.undecided.filter(EnrollmentRequest.Columns.expiresAt > now)
                .order(Column("requestedAt"), Column("id")).fetchAll(db)
        }
    }

    /// Why an operator's answer to a request could not be given.
    public enum AnswerFailure: Error, Equatable, Sendable {
        /// No undecided request of `host` has a fingerprint starting so; these wait.
        case noMatch(waiting: [EnrollmentRequest])
        /// More than one waiting request matches: a longer prefix is needed.
        case ambiguous([EnrollmentRequest])
        /// It matched only requests that expired: the host must ask again.
        case expired(EnrollmentRequest)
    }

    /// `enroll approve`: the waiting request of `host` whose key's fingerprint starts with
    /// `fingerprint` is approved; the host collects its certificate at its next attempt,
    /// within `ttl` seconds.
    public func approveRequest(host: String, fingerprint: String, now: Int64, ttl: Int64, by actor: String) throws
        -> Result<EnrollmentRequest, AnswerFailure>
    {
        try answer(host: host, fingerprint: fingerprint, now: now) { request, db in
            request.approvedAt = now
            request.expiresAt = now + ttl
            try request.update(db)
            try Self.audit(AuditEntry(at: now, action: .requestApproved, actor: actor, host: host, address: request.address,
                                      detail: "key \(request.keyFingerprint.prefix(16)); the host collects it by its next attempt"), db)
        }
    }

    /// `enroll refuse`: that key never gets the name; the host is told so.
    public func refuseRequest(host: String, fingerprint: String, now: Int64, by actor: String) throws
        -> Result<EnrollmentRequest, AnswerFailure>
    {
        try answer(host: host, fingerprint: fingerprint, now: now) { request, db in
            request.refusedAt = now
            try request.update(db)
            try Self.audit(AuditEntry(at: now, action: .requestRefused, actor: actor, host: host, address: request.address,
                                      detail: "key \(request.keyFingerprint.prefix(16))"), db)
        }
    }

    private func answer(host: String, fingerprint: String, now: Int64,
                        _ change: (inout EnrollmentRequest, Database) throws -> Void) throws
        -> Result<EnrollmentRequest, AnswerFailure>
    {
        try writer.write { db in
            let undecided = try EnrollmentRequest.undecided.filter(EnrollmentRequest.Columns.hostName == host)
                .order(Column("requestedAt")).fetchAll(db)
            let matching = undecided.filter { $0.keyFingerprint.hasPrefix(fingerprint) }
            let open = matching.filter { $0.expiresAt > now }
            guard open.count <= 1 else { return .failure(.ambiguous(open)) }
            guard var request = open.first else {
                if let expired = matching.last { return .failure(.expired(expired)) }
                return .failure(.noMatch(waiting: undecided.filter { $0.expiresAt > now }))
            }
            try change(&request, db)
            return .success(request)
        }
    }
}
