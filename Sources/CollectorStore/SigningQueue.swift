import Foundation

/// Certificates signed by one collector for all: the fleet CA's key may live on a single
/// signing collector. A collector without it stores the enrollments and renewals it
/// admitted here; the signing collector (whichever holds the signing lock) decides and
/// signs each as if it had been asked itself, and leaves the answer for the collector
/// the host asks again. Only a store shared by several collectors has one (PostgreSQL).
public protocol SigningQueue: Sendable {
    /// Stores `request` for the signing collector, unless one for the same kind, name and
    /// key already waits (a host asking again is the same request). False, storing nothing,
    /// when `maxPerName` requests for the name wait already: a host making key after key
    /// does not fill the table.
    func queueSigning(_ request: SigningRequest, maxPerName: Int) throws -> Bool

    /// Where the request for `kind`, `host` and `keyFingerprint` is: the signing collector's
    /// answer, taken as it is read (a host asking again later is decided again: an operator
    /// may have approved it meanwhile); still waiting for it; or none queued.
    func signingProgress(_ kind: SigningRequest.Kind, host: String, keyFingerprint: String) throws -> SigningProgress

    /// Whether a signing collector is running: one holds the signing lock now.
    func signerIsRunning() throws -> Bool

    /// Whether this collector signs now: it holds the signing lock (taken here when free),
    /// on a session of its own that ends, and frees it, with the collector.
    func holdsSigning() -> Bool

    /// The requests waiting for an answer, oldest first, at most `limit`; first drops what
    /// is older than `cutoff` (asked, or answered and never taken): its host has asked again
    /// since, or will.
    func waitingSigning(limit: Int, droppingBefore cutoff: Int64) throws -> [SigningRequest]

    /// Records the answer to request `id`.
    func answerSigning(id: Int64, _ answer: SigningAnswer, at now: Int64) throws

    /// `body` as one transaction: the store's writes it makes on this thread (the decision,
    /// the certificate, the answer) commit together, so a signing collector that dies in
    /// between leaves the request to be decided again, never a certificate without its answer.
    func inOneTransaction<T>(_ body: () throws -> T) throws -> T
}

/// An enrollment or renewal a collector without the CA key admitted — the credential,
/// the CSR's signature, key and name already checked — for the signing collector to decide.
public struct SigningRequest: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case enroll, renew }

    /// 0 until stored.
    public var id: Int64 = 0
    public var kind: Kind
    /// The name, in normal form.
    public var host: String
    public var keyFingerprint: String
    /// The certificate request, PEM.
    public var csr: String
    public var address: String?
    public var requestedAt: Int64
    /// Enrollment: the secret's or token's id, who it stands for, and why the policy of the
    /// collector asked singles the name out.
    public var credentialID: Int64?
    public var actor: String?
    public var policyReasons: [String] = []
    /// Renewal: the serial of the certificate presented, and when it ends (the signing
    /// collector renews no certificate that has ended meanwhile).
    public var presented: String?
    public var presentedUntil: Int64?

    public init(kind: Kind, host: String, keyFingerprint: String, csr: String, address: String?, requestedAt: Int64,
                credentialID: Int64? = nil, actor: String? = nil, policyReasons: [String] = [], presented: String? = nil,
                presentedUntil: Int64? = nil) {
        self.kind = kind
        self.host = host
        self.keyFingerprint = keyFingerprint
        self.csr = csr
        self.address = address
        self.requestedAt = requestedAt
        self.credentialID = credentialID
        self.actor = actor
        self.policyReasons = policyReasons
        self.presented = presented
        self.presentedUntil = presentedUntil
    }
}

public enum SigningProgress: Sendable, Equatable {
    case none
    /// Queued, or being signed: the certificate may already be recorded, its answer not yet.
    case waiting
    case answered(SigningAnswer)
}

/// What the host is answered, as the signing collector would have answered it: the HTTP
/// status, the body's type and bytes, and Retry-After when it said one.
public struct SigningAnswer: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: Data
    public var retryAfter: Int?

    public init(status: Int, contentType: String, body: Data, retryAfter: Int? = nil) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.retryAfter = retryAfter
    }
}
