import CollectorStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// A collector without the CA key, relaying an enrollment or renewal it admitted to the
/// signing collector (through the shared database's `SigningQueue`): the request waits
/// here a moment for the answer, which most often comes in that time; otherwise the host
/// is told to ask again (202, Retry-After), and its next request with the same key takes
/// the answer. With no signing collector running: 503 with Retry-After.
struct SigningDesk {
    let queue: (any SigningQueue)?
    let logger: Logger
    /// Whether a request is waiting for its answer in this collector now, and when no
    /// signing collector was last logged.
    let waiting = Waiting()

    /// How long a request waits here for the signing collector's answer, and how often it looks.
    static let wait: TimeInterval = 2
    static let look: useconds_t = 100_000
    /// What a host is told while the signing collector has not answered yet.
    static let askAgainSeconds = 5
    /// ... and when none is running: as a database outage.
    static let noSignerSeconds = 60
    /// Requests one name may have waiting for the signing collector.
    static let maxPerName = 4

    final class Waiting: @unchecked Sendable {
        private let lock = NSLock()
        private var busy = false
        /// Whether the caller may wait (nobody else does); then it must `leave()`.
        func enter() -> Bool {
            lock.withLock {
                if busy { return false }
                busy = true
                return true
            }
        }

        func leave() { lock.withLock { busy = false } }

        private var lastLogged: Date?

        /// Whether a line saying no signing collector runs may be written now (one a minute).
        func mayLog(at now: Date) -> Bool {
            lock.withLock {
                if let last = lastLogged, now.timeIntervalSince(last) < 60 { return false }
                lastLogged = now
                return true
            }
        }
    }

    /// The answer to an admitted enrollment or renewal: one the signing collector left for
    /// it first; else `decide`'s, here — or, when it comes to signing on a collector without
    /// the CA key, the signing collector's (`relay`).
    func answer(_ request: SigningRequest, decide: () throws -> Reply) throws -> Reply {
        if let answer = try collect(request) { return answer }
        do {
            return try decide()
        } catch is CollectorApplication.SigningElsewhere {
            return try relay(request)
        }
    }

    /// The signing collector's answer to `request`, left for whichever collector the host
    /// asked again (taken: a later request is decided anew); while the request is still with
    /// the signing collector, its answer as `relay` waits for it. Nil when none was queued:
    /// deciding here must not begin while a certificate the signing collector has just
    /// recorded for this key lacks its answer (it would find the name already certified).
    func collect(_ request: SigningRequest) throws -> Reply? {
        guard let queue else { return nil }
        switch try queue.signingProgress(request.kind, host: request.host, keyFingerprint: request.keyFingerprint) {
        case .none: return nil
        case .answered(let answer): return Reply(answer)
        case .waiting: return try awaitAnswer(request, queue)
        }
    }

    /// Queues `request` for the signing collector, and answers with what it answered
    /// within `wait`; else 202 (ask again), or 503 when no signing collector runs.
    func relay(_ request: SigningRequest) throws -> Reply {
        guard let queue else {
            throw HTTPFailure(.serviceUnavailable, headers: ["Retry-After": "\(Self.noSignerSeconds)"],
                              message: "this collector has no CA key and no shared database to queue certificates in")
        }
        guard try queue.queueSigning(request, maxPerName: Self.maxPerName) else {
            throw HTTPFailure(.tooManyRequests, headers: ["Retry-After": "\(Self.noSignerSeconds)"], message: """
                \(request.host): \(Self.maxPerName) requests for this name already wait for the signing collector: \
                ask again later with the same key
                """)
        }
        logger.info("\(request.kind == .enroll ? "enrollment" : "renewal") of \(request.host) queued for the signing collector",
                    metadata: ["event": "signing_queued", "host": "\(request.host)", "kind": "\(request.kind.rawValue)",
                               "key": "\(request.keyFingerprint.prefix(16))", "address": "\(request.address ?? "-")"])
        return try awaitAnswer(request, queue)
    }

    private func awaitAnswer(_ request: SigningRequest, _ queue: any SigningQueue) throws -> Reply {
        // No signing collector: nothing to wait for.
        try requireSigner(request, queue)
        // One request waits at a time: the blocking routes have two threads, which one host
        // renewing with key after key must not hold. The others look once and hear 202
        // (the caller has just looked: they do not look again, nor sleep).
        if waiting.enter() {
            defer { waiting.leave() }
            let deadline = Date().addingTimeInterval(Self.wait)
            repeat {
                usleep(Self.look)
                if case .answered(let answer) = try queue.signingProgress(request.kind, host: request.host,
                                                                          keyFingerprint: request.keyFingerprint) {
                    return Reply(answer)
                }
            } while Date() < deadline
        }
        try requireSigner(request, queue)  // it may have stopped meanwhile
        var reply = try EnrollRoutes.reply(.accepted, EnrollRoutes.Answer(
            status: "signing", host: request.host,
            message: "\(request.host): the signing collector has the request; ask again in \(Self.askAgainSeconds) s with the same key",
            fingerprint: request.keyFingerprint))
        reply.headers.add(name: "Retry-After", value: "\(Self.askAgainSeconds)")
        return reply
    }

    /// Throws 503 (logged once a minute) when no collector holds the signing lock.
    private func requireSigner(_ request: SigningRequest, _ queue: any SigningQueue) throws {
        guard try queue.signerIsRunning() else {
            // Once a minute: a fleet asking meanwhile must not flood the log.
            if waiting.mayLog(at: Date()) {
                let what = request.kind == .enroll ? "enrollment" : "renewal"
                logger.error("""
                    no signing collector is running: the \(what) of \(request.host) (and any other since the last such line, \
                    a minute at most) waits in the database; start the collector that holds ca.key on this database
                    """, metadata: ["event": "signing_unavailable", "host": "\(request.host)", "kind": "\(request.kind.rawValue)"])
            }
            throw HTTPFailure(.serviceUnavailable, headers: ["Retry-After": "\(Self.noSignerSeconds)"], message: """
                \(request.host): no signing collector is running (the fleet CA's key is on one collector, which signs what \
                the others receive): the request waits for it; ask again later with the same key
                """)
        }
    }
}

extension Reply {
    /// The reply the signing collector stored for the host.
    init(_ answer: SigningAnswer) {
        var headers: HTTPHeaders = ["Content-Type": answer.contentType]
        if let wait = answer.retryAfter { headers.add(name: "Retry-After", value: "\(wait)") }
        self.init(status: HTTPResponseStatus(statusCode: answer.status), headers: headers, body: ByteBuffer(bytes: answer.body))
    }

    /// What is stored for the collector the host asks again.
    var signingAnswer: SigningAnswer {
        SigningAnswer(status: Int(status.code), contentType: headers.first(name: "Content-Type") ?? "text/plain; charset=utf-8",
                      body: Data(body.readableBytesView), retryAfter: headers.first(name: "Retry-After").flatMap { Int($0) })
    }
}
