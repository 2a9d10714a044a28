import CollectorStore
import Foundation
import Logging
import OpenSSLTLS
import PortwardenModel

/// On a collector that holds the CA key and shares its database: while it holds the
/// signing lock (one such collector at a time; another takes over within seconds of its
/// end), it decides and signs what the collectors without the key queued — each request
/// as `EnrollRoutes`/`RenewRoutes` would have here, at the time of signing — and stores
/// the answer for the host's next request. On a thread of its own: libpq and signing block.
final class SigningLoop: @unchecked Sendable {
    let queue: any SigningQueue
    let enroll: EnrollRoutes
    let renew: RenewRoutes
    let logger: Logger
    private let stopped = NSCondition()
    private var started = false
    private var stopping = false
    private var finished = false

    /// How often the holder looks for requests, and the others try for the lock.
    static let holderLooks: TimeInterval = 0.2
    static let othersLook: TimeInterval = 5
    /// Requests and answers older than this are dropped: their hosts have asked again.
    static let keepFor: Int64 = 3_600

    init(queue: any SigningQueue, enroll: EnrollRoutes, renew: RenewRoutes, logger: Logger) {
        self.queue = queue
        self.enroll = enroll
        self.renew = renew
        self.logger = logger
    }

    func start() {
        stopped.withLock { started = true }
        let thread = Thread { [self] in run() }
        thread.name = "portwarden signing"
        thread.start()
    }

    /// Stops the loop and waits for the request in hand to be answered.
    func stop() {
        stopped.lock()
        stopping = true
        stopped.broadcast()
        while started && !finished { stopped.wait() }
        stopped.unlock()
    }

    private func run() {
        var holding: Bool?
        while true {
            let holds = queue.holdsSigning()
            if holds != holding {
                logger.log(level: holds ? .notice : .info,
                           holds ? "this collector signs the certificates the collectors without the CA key queue"
                                 : "another collector signs the queued certificates (or none is running: this one tries every 5 s)",
                           metadata: ["event": holds ? "signing_held" : "signing_elsewhere"])
                holding = holds
            }
            if holds { answerWaiting() }
            stopped.lock()
            if !stopping { stopped.wait(until: Date().addingTimeInterval(holds ? Self.holderLooks : Self.othersLook)) }
            let done = stopping
            stopped.unlock()
            if done { break }
        }
        stopped.lock()
        finished = true
        stopped.broadcast()
        stopped.unlock()
    }

    /// `request` as this collector decides it, or nil when it is to be left unanswered:
    /// older than `keepFor` (its host has asked again since, or will; the next look drops
    /// it). An enrollment is held for an operator by this collector's policy as well as by
    /// the one of the collector that admitted it. (A renewal whose certificate ended while
    /// queued is refused by `RenewRoutes.decide`, audited.)
    static func stillAsked(_ request: SigningRequest, now: Int64, policy: PolicyHolder?) -> SigningRequest? {
        guard now - request.requestedAt <= keepFor else { return nil }
        var request = request
        if request.kind == .enroll {
            let own = EnrollRoutes.policyReasons(for: request.host, policy)
            request.policyReasons += own.filter { !request.policyReasons.contains($0) }
        }
        return request
    }

    private func answerWaiting() {
        let waiting: [SigningRequest]
        do {
            waiting = try queue.waitingSigning(limit: 32, droppingBefore: Int64(Date().timeIntervalSince1970) - Self.keepFor)
        } catch {
            logger.warning("cannot read the signing queue: \(error)", metadata: ["event": "signing_failed", "reason": "\(error)"])
            return
        }
        for queued in waiting {
            let now = Int64(Date().timeIntervalSince1970)
            do {
                // The decision, its certificate and the answer commit together.
                try queue.inOneTransaction {
                    let reply: Reply
                    do {
                        guard let request = Self.stillAsked(queued, now: now, policy: enroll.policy) else { return }
                        let csr = try CertificateRequest(pem: request.csr)
                        reply = switch request.kind {
                        case .enroll: try enroll.decide(request, csr, now: now)
                        case .renew: try renew.decide(request, csr, now: now)
                        }
                    } catch let failure as HTTPFailure {
                        reply = failure.reply
                    }
                    try queue.answerSigning(id: queued.id, reply.signingAnswer, at: now)
                }
            } catch let error as StorageUnavailable {
                // Nothing decided: the request stays queued for the next look.
                logger.warning("cannot sign now: \(error)", metadata: ["event": "signing_failed", "reason": "\(error)"])
                return
            } catch {
                // Not to be tried again every look: answered, on its own.
                logger.error("could not sign the \(queued.kind.rawValue) of \(queued.host): \(error)", metadata: [
                    "event": "signing_failed", "host": "\(queued.host)", "reason": "\(error)"])
                let failure = HTTPFailure(.internalServerError, message: "the signing collector could not sign: \(error)")
                try? queue.answerSigning(id: queued.id, failure.reply.signingAnswer, at: now)
            }
        }
    }
}
