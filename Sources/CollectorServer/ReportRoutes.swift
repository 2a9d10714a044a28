import CollectorStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OpenSSLCrypto
import OpenSSLTLS
import PortwardenModel

/// `POST /v1/reports`: a snapshot from a host, stored under the name in its certificate.
struct ReportRoutes {
    /// Stores each report (and evaluates it, with policies) in a transaction it may share.
    let ingest: IngestQueue
    let maxReportBytes: Int
    let clock: ReportClock
    let budget: HostBudget
    let refusals: RefusalLog
    let metrics: CollectorMetrics
    let logger: Logger
    /// The key identifier of the CA that signs hosts' certificates now (`PeerIdentity.issuer`):
    /// a host whose certificate another CA signed (the old one, while the CA is rotated) is told to
    /// renew with each report it sends (`renewHeader`). nil: never.
    var signingCA: String? = nil
    /// The answer's header that asks the agent to renew now (`portwarden-agent run` does).
    static let renewHeader = "X-Portwarden-Renew"
    /// The digest of the CA bundle hosts should trust now (`Certificate.bundleDigest`),
    /// stated on each answer as `caHeader`: an agent whose ca.pem differs fetches it
    /// (`CARoutes`). nil: not stated.
    var caBundleDigest: String? = nil
    static let caHeader = "X-Portwarden-CA"
    /// The policy and waiver period in force (`PolicyHolder.stamp`), read as a report
    /// arrives — before it is evaluated, so a stored host is never marked as evaluated
    /// under a newer policy than it was.
    var evaluationStamp: @Sendable () -> EvaluationStamp? = { nil }
    /// What a 503 for the storage asks an agent to wait: about one report interval.
    static let retryAfterSeconds = 60
    /// What a 503 for a full queue asks: the queue drains in seconds; spread the retries.
    static let queueFullRetryAfter = 5...15

    func add(to routes: inout Routes) {
        // Checked and decoded on the event loop (no SQLite there), stored on the queue's thread.
        routes.add(.POST, "/v1/reports") { request, loop in accept(request, on: loop) }
        // "The same as the state you hold": the digest instead of the listeners.
        routes.add(.POST, UnchangedReport.path) { request, loop in accept(request, on: loop) }
    }

    private func accept(_ request: CollectorRequest, on loop: any EventLoop) -> EventLoopFuture<Reply> {
        let answered: EventLoopFuture<Reply>
        do {
            let (report, bytes) = try decode(request)
            let started = ContinuousClock.now
            answered = ingest.submit(report, bytes: bytes, on: loop)
                .flatMapErrorThrowing { throw refusal(storing: report, $0) }
                .map { [issuer = request.peer?.issuer] in statingCA(askingToRenew(stored(report, $0, since: started), issuer)) }
        } catch {
            answered = loop.makeFailedFuture(error)
        }
        return answered.flatMapErrorThrowing { error in
            if let refused = error as? Refused { metrics.refused(refused.reason); throw refused.failure }
            if let failure = error as? HTTPFailure { metrics.refused(Self.reason(failure.status)) }
            throw error
        }
    }

    static func reason(_ status: HTTPResponseStatus) -> String {
        switch status {
        case .unauthorized: "no_certificate"
        case .forbidden: "other_host"
        case .payloadTooLarge: "too_large"
        case .serviceUnavailable: "storage"
        default: "bad_request"
        }
    }

    /// A refusal counted under its own reason in /metrics (`HTTPFailure`s are counted by status).
    struct Refused: Error {
        let reason: String
        let failure: HTTPFailure
    }

    /// The request checked and decoded, ready to store, and its body's size; refusals are
    /// `HTTPFailure`s or `Refused`.
    func decode(_ request: CollectorRequest) throws -> (IngestRequest, Int) {
        guard let host = request.peer?.host else {
            throw HTTPFailure(.unauthorized, message: "a report needs the host's client certificate")
        }
        // The budget first: a host past it costs no decoding and no room in the queue.
        let receivedAt = Int64(Date().timeIntervalSince1970)
        if let wait = budget.admit(host) {
            metrics.throttled(host: host)
            let message = """
                \(host) is past its budget (\(budget.limits.reportsPerMinute) reports a minute, \
                \(budget.limits.reportBytesPerMinute) report bytes a minute, \(budget.limits.changedListenersPerHour) \
                changed listeners an hour); try again in \(Seconds(wait))
                """
            refusals.refused(host: host, reason: "throttled", message, at: receivedAt)
            throw Refused(reason: "throttled", failure: HTTPFailure(.tooManyRequests, headers: ["Retry-After": "\(wait)"], message: message))
        }
        do {
            return try decode(request, from: host, at: receivedAt)
        } catch let refusal as ReportRefusal {
            throw refused(host, refusal, at: receivedAt, serial: request.peer?.serial)
        }
    }

    private func decode(_ request: CollectorRequest, from host: String, at receivedAt: Int64) throws -> (IngestRequest, Int) {
        var bytes = Array(request.body.readableBytesView)  // at most maxReportBytes: BodyLimit saw to it
        switch request.head.headers.first(name: "Content-Encoding")?.lowercased() {
        case nil, "identity": break
        case "gzip":
            do { bytes = try Gzip.decompress(bytes, limit: maxReportBytes) } catch .tooLarge(let limit) {
                throw ReportRefusal(.tooLarge, "the report inflates past \(limit) bytes")
            } catch {
                throw ReportRefusal(.badRequest, "not gzip: \(error)")
            }
        case let other?:
            throw HTTPFailure(.unsupportedMediaType, message: "Content-Encoding \(other) is not accepted (gzip is)")
        }
        // Decoding is what this costs the event loop, refused or not: charged as it is read.
        budget.charge(host, bytes: bytes.count)
        if request.path == UnchangedReport.path {
            let report: UnchangedReport
            do { report = try UnchangedReport(wire: bytes) } catch { throw ReportRefusal(.badRequest, "not an unchanged report: \(error)") }
            let collectedAt = try checked(schema: report.schema, hostname: report.hostname, collectedAt: report.collectedAt,
                                          sequence: report.sequence, from: host, at: receivedAt)
            var request = IngestRequest(unchanged: report, host: host, bodyDigest: Digest.sha256(bytes), receivedAt: receivedAt,
                                        collectedAt: collectedAt)
            request.evaluatedUnder = evaluationStamp()
            return (request, bytes.count)
        }
        let snapshot: Snapshot
        do {
            snapshot = try Snapshot(wire: bytes)
        } catch {
            throw ReportRefusal(.badRequest, "not a snapshot: \(error)")
        }
        let collectedAt = try checked(schema: snapshot.schema, hostname: snapshot.host.hostname, collectedAt: snapshot.collectedAt,
                                      sequence: snapshot.sequence, from: host, at: receivedAt)
        var request = IngestRequest(snapshot, host: host, bodyDigest: Digest.sha256(bytes), receivedAt: receivedAt,
                                    collectedAt: collectedAt, stateDigest: snapshot.stateDigest)
        request.evaluatedUnder = evaluationStamp()
        return (request, bytes.count)
    }

    /// What every report must pass before it is queued, full or unchanged: the schema this
    /// collector reads, the certificate's host, a clock within bounds. Its time in seconds.
    private func checked(schema: Int, hostname: String, collectedAt: String, sequence: UInt64?, from host: String,
                         at receivedAt: Int64) throws -> Int64 {
        guard schema == Snapshot.currentSchema else {
            throw ReportRefusal(.badRequest, "schema \(schema) is not supported (this collector reads \(Snapshot.currentSchema))")
        }
        // Host identity is the certificate: a body naming another host writes nothing.
        guard PeerIdentity.hostName(hostname) == host else {
            throw ReportRefusal(.otherHost, "this certificate belongs to \(host), not \(hostname)")
        }
        let seconds = try ReportClock.seconds(collectedAt)
        try clock.check(collectedAt: seconds, sequence: sequence, receivedAt: receivedAt)
        return seconds
    }

    /// `refusal` answered, counted, and noted against `host` (which shows as refusing).
    private func refused(_ host: String, _ refusal: ReportRefusal, at time: Int64, serial: String? = nil) -> Refused {
        refusals.refused(host: host, refusal, at: time, metadata: serial.map { ["serial": "\($0)"] } ?? [:])
        let status: HTTPResponseStatus = switch refusal.reason {
        case .tooLarge: .payloadTooLarge
        case .otherHost: .forbidden
        case .clockSkew, .outOfOrder, .badRequest: .badRequest
        }
        // A 413 states the limit, so the agent can trim its report to it and send it again.
        let headers: HTTPHeaders = refusal.reason == .tooLarge ? [WireLimits.reportLimitHeader: "\(maxReportBytes)"] : [:]
        return Refused(reason: refusal.reason.rawValue, failure: HTTPFailure(status, headers: headers, message: refusal.message))
    }

    /// Why storing `report` failed, as the agent should hear it.
    func refusal(storing report: IngestRequest, _ error: any Error) -> any Error {
        switch error {
        case let error as StorageUnavailable:
            // Nothing was stored and nothing is wrong with the report: the agent keeps it
            // in its spool (5xx means "wait") and offers it again once space returns.
            refusals.failed(host: report.host, reason: "storage", """
                refused a report from \(report.host): cannot store it, \(error): free space or repair the disk of the \
                database, or bring PostgreSQL back; the agent keeps the report and sends it again
                """, at: report.receivedAt)
            return HTTPFailure(.serviceUnavailable, headers: ["Retry-After": "\(Self.retryAfterSeconds)"],
                               message: "the collector cannot store reports now (\(error)); try again later")
        case let error as IngestQueue.Full:
            let wait = Int.random(in: Self.queueFullRetryAfter)
            let message = "the collector is busy: \(error); try again in \(Seconds(wait))"
            refusals.refused(host: report.host, reason: "queue_full", message, at: report.receivedAt)
            return Refused(reason: "queue_full", failure: HTTPFailure(
                .serviceUnavailable, headers: ["Retry-After": "\(wait)"], message: message))
        case is IngestQueue.ShuttingDown:
            return HTTPFailure(.serviceUnavailable, headers: ["Retry-After": "\(Self.retryAfterSeconds)"],
                               message: "the collector is shutting down; try again later")
        case let refusal as ReportRefusal:
            return refused(report.host, refusal, at: report.receivedAt)
        case let error as StoreError:
            return HTTPFailure(.badRequest, message: "not a snapshot: \(error)")
        default:
            return error
        }
    }

    /// `reply`, asking the host to renew when its certificate is not from the CA that signs now.
    func askingToRenew(_ reply: Reply, _ issuer: String?) -> Reply {
        guard let signingCA, let issuer, issuer != signingCA else { return reply }
        var reply = reply
        reply.headers.add(name: Self.renewHeader, value: "ca-rotated")
        return reply
    }

    /// `reply`, stating the digest of the CA bundle hosts should trust now.
    func statingCA(_ reply: Reply) -> Reply {
        guard let caBundleDigest else { return reply }
        var reply = reply
        reply.headers.add(name: Self.caHeader, value: caBundleDigest)
        return reply
    }

    /// The receipt for a stored report; its changes are charged to the host's budget. An
    /// unchanged report naming a state this collector does not hold is answered 409: the
    /// agent sends the snapshot in full, on the same connection.
    func stored(_ report: IngestRequest, _ outcome: IngestOutcome, since started: ContinuousClock.Instant) -> Reply {
        let (name, opened, closed) = switch outcome {
        case .changed(let opened, let closed): ("changed", opened, closed)
        case .unchanged: ("unchanged", 0, 0)
        case .duplicate: ("duplicate", 0, 0)
        case .stateUnknown: ("state_unknown", 0, 0)
        }
        let elapsed = ContinuousClock.now - started
        metrics.accepted(name, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        let sequence = report.sequence.map(String.init) ?? "none"
        if outcome == .stateUnknown {
            logger.debug("report from \(report.host): unchanged from a state this collector does not hold; asked for the snapshot",
                         metadata: ["event": "report_state_unknown", "host": "\(report.host)", "sequence": "\(sequence)"])
            return .json(#"{"outcome":"state_unknown","message":"this collector does not hold the state the report names: send the snapshot in full"}"#.utf8,
                         status: .conflict)
        }
        // A change of labels alone (changed, 0 opened, 0 closed) still wrote a row: one change.
        budget.charge(report.host, changed: outcome == .unchanged || outcome == .duplicate ? 0 : max(opened + closed, 1))
        if outcome != .duplicate { refusals.stored(host: report.host) }
        // A changed report is an event; an unchanged one (most of them, at a fleet's every
        // interval) is only counted, and logged at debug.
        logger.log(level: name == "changed" ? .info : .debug,
                   "report from \(report.host): \(name)\(name == "changed" ? ", \(opened) opened, \(closed) closed" : "")",
                   metadata: ["event": "report_\(name)", "host": "\(report.host)", "sequence": "\(sequence)",
                              "opened": "\(opened)", "closed": "\(closed)"])
        // The state the host's next unchanged reports name: this one's, once stored.
        let state = outcome == .duplicate ? "" : report.stateDigest.map { #","state_digest":"\#($0)""# } ?? ""
        return .json(#"{"outcome":"\#(name)","opened":\#(opened),"closed":\#(closed)\#(state)}"#.utf8)
    }
}
