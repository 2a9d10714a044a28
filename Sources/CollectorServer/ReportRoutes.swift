import CollectorStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import OpenSSLTLS
import PortwardenModel

/// `POST /v1/reports`: a snapshot from a host, stored under the name in its certificate.
struct ReportRoutes {
    /// Stores each report (and evaluates it, with policies) in a transaction it may share.
    let ingest: IngestQueue
    let maxReportBytes: Int
    let metrics: CollectorMetrics
    let logger: Logger
    /// What a 503 asks an agent to wait: about one report interval.
    static let retryAfterSeconds = 60

    func add(to routes: inout Routes) {
        // Checked and decoded on the event loop (no SQLite there), stored on the queue's thread.
        routes.add(.POST, "/v1/reports") { request, loop in
            let answered: EventLoopFuture<Reply>
            do {
                let report = try decode(request)
                let started = ContinuousClock.now
                answered = ingest.submit(report, on: loop)
                    .flatMapErrorThrowing { throw refusal(storing: report, $0) }
                    .map { receipt($0, since: started) }
            } catch {
                answered = loop.makeFailedFuture(error)
            }
            return answered.flatMapErrorThrowing { error in
                if let failure = error as? HTTPFailure { metrics.refused(Self.reason(failure.status)) }
                throw error
            }
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

    /// The request checked and decoded, ready to store; refusals are `HTTPFailure`s.
    func decode(_ request: CollectorRequest) throws -> IngestRequest {
        guard let host = request.peer?.host else {
            throw HTTPFailure(.unauthorized, message: "a report needs the host's client certificate")
        }
        var bytes = Array(request.body.readableBytesView)  // at most maxReportBytes: BodyLimit saw to it
        switch request.head.headers.first(name: "Content-Encoding")?.lowercased() {
        case nil, "identity": break
        case "gzip":
            do { bytes = try Gzip.decompress(bytes, limit: maxReportBytes) } catch .tooLarge(let limit) {
                throw HTTPFailure(.payloadTooLarge, headers: [WireLimits.reportLimitHeader: "\(limit)"],
                                  message: "the report inflates past \(limit) bytes")
            } catch {
                throw HTTPFailure(.badRequest, message: "not gzip: \(error)")
            }
        case let other?:
            throw HTTPFailure(.unsupportedMediaType, message: "Content-Encoding \(other) is not accepted (gzip is)")
        }
        let snapshot: Snapshot
        do {
            snapshot = try Snapshot(wire: bytes)
        } catch {
            throw HTTPFailure(.badRequest, message: "not a snapshot: \(error)")
        }
        guard snapshot.schema == Snapshot.currentSchema else {
            throw HTTPFailure(.badRequest, message: "schema \(snapshot.schema) is not supported (this collector reads \(Snapshot.currentSchema))")
        }
        // Host identity is the certificate: a body naming another host writes nothing.
        guard snapshot.host.hostname == host else {
            logger.warning("refused a report", metadata: [
                "certificate": "\(host)", "names": "\(snapshot.host.hostname)", "serial": "\(request.peer?.serial ?? "-")",
            ])
            throw HTTPFailure(.forbidden, message: "this certificate belongs to \(host), not \(snapshot.host.hostname)")
        }
        return IngestRequest(snapshot, host: host, bodyDigest: Digest.sha256(bytes),
                             receivedAt: Int64(Date().timeIntervalSince1970))
    }

    /// Why storing `report` failed, as the agent should hear it.
    func refusal(storing report: IngestRequest, _ error: any Error) -> any Error {
        switch error {
        case let error as StorageUnavailable:
            // Nothing was stored and nothing is wrong with the report: the agent keeps it
            // in its spool (5xx means "wait") and offers it again once space returns.
            logger.error("refused a report: cannot store it", metadata: ["host": "\(report.host)", "error": "\(error)"])
            return HTTPFailure(.serviceUnavailable, headers: ["Retry-After": "\(Self.retryAfterSeconds)"],
                               message: "the collector cannot store reports now (\(error)); try again later")
        case is IngestQueue.ShuttingDown:
            return HTTPFailure(.serviceUnavailable, headers: ["Retry-After": "\(Self.retryAfterSeconds)"],
                               message: "the collector is shutting down; try again later")
        case let error as StoreError:
            return HTTPFailure(.badRequest, message: "not a snapshot: \(error)")
        default:
            return error
        }
    }

    func receipt(_ outcome: IngestOutcome, since started: ContinuousClock.Instant) -> Reply {
        let (name, opened, closed) = switch outcome {
        case .changed(let opened, let closed): ("changed", opened, closed)
        case .unchanged: ("unchanged", 0, 0)
        case .duplicate: ("duplicate", 0, 0)
        }
        let elapsed = ContinuousClock.now - started
        metrics.accepted(name, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return .json(#"{"outcome":"\#(name)","opened":\#(opened),"closed":\#(closed)}"#.utf8)
    }
}
