import Foundation
import PortwardenModel

/// The collector's history behind one interface: the only way any module reads or writes
/// it. `CollectorDatabase` (SQLite) is the implementation; a second one is a new set of
/// files conforming to this, run through the same suite (Tests/CollectorStoreTests), and
/// chosen in `HistoryStores` only. What an implementation must guarantee:
///
/// - **One transaction per named operation.** Each method that writes is all or nothing,
///   and the decision it makes is taken inside the transaction that writes it: parallel
///   `enroll`s for one name see each other (exactly one is issued), a revocation and its
///   audit entry, an answer to a request and the request it settles, commit together.
/// - **Reads see one consistent view** (one read transaction), and do not hold ingest up:
///   the `forEach…` readers walk their rows with a cursor, memory bounded by a row, while
///   reports go on being stored.
/// - **Ingest**: see `ingest(_:refusals:findings:clock:)`. A duplicate (same boot, sequence
///   not after the stored one) writes nothing; an incomplete snapshot opens intervals and
///   closes none; a listener's and a finding's identity decide "the same" (pids and
///   command lines never do); findings are evaluated in the transaction that stores the
///   snapshot, and a nil evaluation opens and resolves nothing.
/// - **"The storage", not "the request"**: a failure that may pass — disk full, an I/O
///   error, the store cannot be opened or written, out of memory — is thrown as
///   `StorageUnavailable` (the collector answers 503 and the agent retries); anything else
///   about a report is that report's error (`ReportRefusal`, `StoreError`).
/// - Times are seconds since the epoch; host names are stored exactly as given (callers
///   pass them in normal form); text is stored as given and bounded where its type says.
public protocol HistoryStore: Sendable {
    // MARK: Ingest

    /// Stores several reports in one transaction, each as if alone: a savepoint each, so
    /// one refused does not undo the others, and a later report sees an earlier one's
    /// writes. Results come back in `batch` order. A storage failure throws
    /// `StorageUnavailable` and nothing of any report is kept. `refusals` are recorded in
    /// the same transaction, each before the report at index `before` (`batch.count`:
    /// after them all), so a host's refusals and stored reports — which clear its
    /// refusal — take effect in the order they arrived. With `clock`, a report out of the
    /// host's order is refused (`ReportRefusal`) and stored no earlier than the host's
    /// newest. `findings` evaluates each stored snapshot inside its savepoint.
    func ingest(_ batch: [IngestRequest], refusals: [(before: Int, refusal: HostRefusal)], findings: FindingEvaluator?,
                clock: ReportClock?) throws -> [Result<IngestOutcome, any Error>]

    /// One report in its own transaction, without blocking the caller's thread meanwhile.
    func ingest(_ request: IngestRequest, findings: FindingEvaluator?, clock: ReportClock?) async throws -> IngestOutcome

    /// Records refusals outside ingest (tests, tools): a host still refusing keeps its
    /// first refusal and adds to the count; the newest reason and message win.
    func record(refusals: [HostRefusal]) throws

    // MARK: Findings

    /// Evaluates every host's open listeners again, in one transaction, as if each had
    /// sent a complete snapshot at `now` (a waiver lapsed, a policy reloaded). Stops at
    /// the first host `evaluate` returns nil for. Once every host is evaluated, each is
    /// marked as evaluated under `stamp` (`EvaluationStamp`), in the same transaction.
    func reevaluateFindings(at now: Date, evaluate: FindingEvaluator, stamp: EvaluationStamp?) throws -> FindingChanges

    /// The findings open on `host`, oldest first, then by port and rule.
    func openFindings(host: String) throws -> [FindingInterval]

    /// Every finding interval of `host`, open or resolved, oldest first, then by port and rule.
    func findingHistory(host: String) throws -> [FindingInterval]

    /// Open, unwaived findings by severity, for /metrics.
    func openFindingCounts() throws -> [String: Int]

    // MARK: Hosts

    /// One host's record, or nil when it never reported.
    func host(named name: String) throws -> HostRecord?

    /// Every host by name, with whether it is stale (nothing received for `window` seconds).
    func hosts(now: Int64, staleAfter window: Int64) throws -> [(host: HostRecord, stale: Bool)]
    func hosts(now: Int64, staleAfter window: Int64) async throws -> [(host: HostRecord, stale: Bool)]

    /// How many hosts there are (those refused from their first report on included), and
    /// how many are stale and refusing (`HostState`'s rule), without reading every host.
    func hostCounts(now: Int64, staleAfter window: Int64) throws -> (all: Int, stale: Int, refusing: Int)

    /// The listener intervals still open on `host`, by port.
    func openListeners(host: String) throws -> [ListenerInterval]

    /// Every host with its open-listener count, by name.
    func hostsWithOpenListeners() throws -> [(host: HostRecord, openListeners: Int)]

    /// `host`'s receipt runs, oldest first.
    func receiptRuns(host: String) throws -> [ReceiptRun]

    /// The hosts whose newest report was refused, by host name; a stored report of the
    /// host removes its entry, in the transaction that stores it.
    func currentRefusals() throws -> [String: HostRefusal]

    /// Whether `name` is stored anywhere exactly so (a certificate, a host, a tag edit).
    func knowsName(_ name: String) throws -> Bool

    /// `hosts forget`: in one transaction, revokes `host`'s certificates, closes its open
    /// listener and finding intervals as retired (`ClosedAs.retired`), marks the host
    /// retired and audits it; nil when neither a host nor a certificate has the name. A
    /// retired host's later report is stored (a new life) only with a certificate issued
    /// after the retirement; until then it writes nothing.
    func retire(host: String, at now: Int64, by actor: String, reason: String?) throws -> Retirement?

    // MARK: Policy versions

    /// Records `version` as the policy in force from `time`, nil for none (`serve
    /// --no-policy`), in one transaction: its files once per digest (the same content again
    /// is the same version), and a new period only when what is in force changes.
    func recordPolicy(_ version: PolicyVersion?, at time: Int64) throws

    /// The version whose digest is `digest`, nil when it was never recorded (findings
    /// stored before v9-policy name such versions).
    func policyVersion(digest: String) throws -> PolicyVersion?

    /// What was in force over [since, until): the period in force at `since`, when one
    /// was recorded by then, and every period begun before `until`, oldest first.
    func policyPeriods(since: Int64, until: Int64) throws -> [PolicyPeriod]

    // MARK: Timelines and exports

    /// Each host (only `host`, when given) by name, with its listener intervals open at
    /// some time after `since`, by opening time then port: the timeline replay walks.
    func listenerTimeline(since: Int64, host: String?) throws -> [HostTimeline]

    /// Listener intervals overlapping [since, until) — opened before `until`, open or
    /// closed after `since` — with their host's name, by host, opening time, then port.
    func forEachListenerInterval(since: Int64, until: Int64,
                                 _ body: (_ host: String, _ interval: ListenerInterval) throws -> Void) throws

    /// Finding intervals overlapping [since, until), as `forEachListenerInterval`.
    func forEachFindingInterval(since: Int64, until: Int64,
                                _ body: (_ host: String, _ finding: FindingInterval) throws -> Void) throws

    /// Receipt runs last received at or after `since` and first collected before `until`,
    /// with their host's name, by host then age.
    func forEachReceiptRun(since: Int64, until: Int64, _ body: (_ host: String, _ run: ReceiptRun) throws -> Void) throws

    /// Every receipt run overlapping [since, until) by receive time (the collector's
    /// clock), as plain integers (host id, first received, last received), in no particular order.
    func forEachReportingSpan(since: Int64, until: Int64,
                              _ body: (_ hostId: Int64, _ first: Int64, _ last: Int64) throws -> Void) throws

    // MARK: Tags

    /// `hosts tag`: the host carries `tag`, whatever the inventory says; replaces an untag.
    /// Audited with `actor` in the same transaction, as are the two below.
    func tag(host: String, _ tag: String, at now: Int64, by actor: String) throws
    /// `hosts untag`: the host does not carry `tag`, even when the inventory gives it.
    func untag(host: String, _ tag: String, at now: Int64, by actor: String) throws
    /// Forgets what operators said about `tag` (case-insensitively) on `host`; whether there was anything.
    @discardableResult
    func forgetTag(host: String, _ tag: String, at now: Int64, by actor: String) throws -> Bool
    /// What operators said about one host's tags, tags in case-folded order.
    func tagEdits(host: String) throws -> TagEdits
    /// Every host's tag edits, by host name.
    func allTagEdits() throws -> [String: TagEdits]
    /// Every tag `hosts tag` gave anywhere.
    func assignedTags() throws -> Set<String>

    // MARK: Enrollment

    /// Decides an enrollment and, when it is issued, records the certificate `sign`
    /// makes, all in one transaction. A credential that cannot enroll refuses it; a name
    /// that ever held a certificate, belongs to a host that reported, is singled out by
    /// `attempt.policyReasons` or was tagged by an operator waits for an operator to
    /// approve this key (a refused key stays refused; new requests are capped by
    /// `EnrollmentRequest.maxWaitingPerSource` and `.maxWaitingPerName`); otherwise the
    /// certificate is issued as `recordSigned` records one, and the credential's use
    /// counted. Every outcome is audited.
    func enroll(_ attempt: EnrollmentAttempt, sign: () throws -> IssuedCertificate) throws -> EnrollmentOutcome

    /// Requests an operator may still answer (or the host still collect), and those
    /// superseded, until each expires; oldest first.
    func openRequests(now: Int64) throws -> [EnrollmentRequest]

    /// `enroll approve`: the undecided request of `host` whose key's fingerprint starts
    /// with `fingerprint` may collect its certificate within `ttl` seconds.
    func approveRequest(host: String, fingerprint: String, now: Int64, ttl: Int64, by actor: String) throws
        -> Result<EnrollmentRequest, RequestAnswerFailure>

    /// `enroll refuse`: that key never gets the name (superseded requests may be refused too).
    func refuseRequest(host: String, fingerprint: String, now: Int64, by actor: String) throws
        -> Result<EnrollmentRequest, RequestAnswerFailure>

    // MARK: Credentials

    /// The credential whose text hashes to `digest`, revoked or not.
    func credential(digest: String) throws -> EnrollmentCredential?
    /// Whether any secret or token could enroll a host at `now`.
    func enrollmentIsOpen(now: Int64) throws -> Bool
    /// Makes `digest` the enrollment secret; the one before stops working at once.
    func rotateSecret(digest: String, at now: Int64, by actor: String) throws
    /// Turns enrollment by secret off; whether a secret was on.
    func disableSecret(at now: Int64, by actor: String) throws -> Bool
    /// Stores a token and audits it with `scope`; the token with its id.
    func createToken(_ token: EnrollmentCredential, scope: String) throws -> EnrollmentCredential
    /// Every token, newest first.
    func tokens() throws -> [EnrollmentCredential]
    /// Revokes token `id`; false when there is no such token or it was revoked already.
    func revokeToken(id: Int64, at now: Int64, by actor: String) throws -> Bool

    // MARK: Certificates

    /// `enroll sign`: records the certificate `sign` makes, revoking the name's older ones
    /// and superseding other keys' requests in the same transaction.
    @discardableResult
    func recordSigned(by actor: String, at now: Int64, sign: () throws -> IssuedCertificate) throws -> IssuedCertificate
    /// Revokes every certificate issued to `host`; how many were still unrevoked.
    func revoke(host: String, at now: Int64, by actor: String) throws -> Int
    /// Whether the certificate with `serial` was revoked. Asked at every TLS handshake:
    /// it must be cheap, and a list that cannot be read counts as revoked.
    func isRevoked(serial: String) -> Bool
    /// The certificates issued to `host` (every host's, when nil), oldest first.
    func certificates(host: String?) throws -> [IssuedCertificate]
    /// Renewal: decides, signs with `sign` and records in one transaction; refused unless
    /// the presented certificate is its name's current one and the key is new. Audited.
    func renew(_ attempt: RenewalAttempt, sign: () throws -> IssuedCertificate) throws -> Result<IssuedCertificate, RenewalRefusal>
    /// Revoked, superseded (a newer certificate of its name was presented), presented for
    /// the first time, or accepted: asked at every handshake, so cheap; a store that
    /// cannot be read refuses.
    func standing(serial: String) -> CertificateStanding
    /// Records a certificate's first presentation at a handshake (once; later calls do nothing).
    func markPresented(serial: String, at now: Int64) throws
    /// How many names' current certificates end before `before`, the ended included (/metrics).
    func currentCertificatesEnding(before: Int64) throws -> Int

    // MARK: Audit

    /// Writes `entry` on its own (for refusals decided before any other write).
    func audit(_ entry: AuditEntry) throws
    /// The audit from `since` on, oldest first.
    func auditEntries(since: Int64) throws -> [AuditEntry]

    // MARK: Upkeep

    /// Deletes receipt runs last received before `cutoff`, except each host's newest
    /// (dedupe reads it); how many went. Listener and finding history is kept.
    @discardableResult
    func pruneReceipts(receivedBefore cutoff: Int64) throws -> Int
    /// Imports hosts with their history, in one transaction (host ids in the rows are ignored).
    func importHistory(_ histories: [HostHistory]) throws
    /// What the store's own consistency check finds wrong; empty when it is sound.
    func integrityProblems() throws -> [String]
    /// The migrations this release knows that were applied to the store, in order.
    func appliedMigrations() throws -> [String]

    /// Whether this collector is the one doing the fleet's periodic work now (waiver-expiry
    /// re-evaluation, receipt pruning): several collectors share one PostgreSQL database,
    /// and one at a time does it, the others skipping their round. It passes to another
    /// when the holder stops or dies. A SQLite file has one collector: always true. Never
    /// throws: a store it cannot reach holds nothing (false).
    func holdsUpkeep() -> Bool

    /// Puts everything committed into the store's own files, for a backup copied after the
    /// collector stopped (SQLite: its write-ahead log checkpointed into the database file
    /// and emptied). `serve` calls it as it stops.
    func settle() throws
}

extension HistoryStore {
    /// Every host evaluated again, marked as evaluated under no policy stamp: the next
    /// unchanged report of each comes in full (tools and tests; the collector passes its own).
    public func reevaluateFindings(at now: Date, evaluate: FindingEvaluator) throws -> FindingChanges {
        try reevaluateFindings(at: now, evaluate: evaluate, stamp: nil)
    }

    /// Stores one snapshot from `host` (the name in its certificate) in one transaction:
    /// a batch of one.
    public func ingest(_ snapshot: Snapshot, host: String, bodyDigest: String, receivedAt: Int64,
                       findings: FindingEvaluator? = nil, clock: ReportClock? = nil) throws -> IngestOutcome {
        try ingest([IngestRequest(snapshot, host: host, bodyDigest: bodyDigest, receivedAt: receivedAt)], refusals: [],
                   findings: findings, clock: clock)[0].get()
    }

    /// The same, without blocking the caller's thread while the store writes.
    public func ingest(_ snapshot: Snapshot, host: String, bodyDigest: String, receivedAt: Int64,
                       findings: FindingEvaluator? = nil, clock: ReportClock? = nil) async throws -> IngestOutcome {
        try await ingest(IngestRequest(snapshot, host: host, bodyDigest: bodyDigest, receivedAt: receivedAt),
                         findings: findings, clock: clock)
    }

    /// Every host's listener timeline since `since`.
    public func listenerTimeline(since: Int64) throws -> [HostTimeline] {
        try listenerTimeline(since: since, host: nil)
    }

    /// Revokes `host`'s certificates on the collector's own account.
    public func revoke(host: String, at now: Int64) throws -> Int { try revoke(host: host, at: now, by: "collector") }

    /// Every certificate the collector issued, oldest first.
    public func certificates() throws -> [IssuedCertificate] { try certificates(host: nil) }
}
