import CollectorStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import OpenSSLTLS
import PortwardenModel

/// `POST /v1/reports`: a snapshot from a host, stored under the name in its certificate.
struct ReportRoutes {
    let database: CollectorDatabase
    let maxReportBytes: Int
    let metrics: CollectorMetrics
    /// Evaluates each stored snapshot in ingest's transaction; nil without policies.
    let findings: FindingEvaluator?
    /// What a 503 asks an agent to wait: about one report interval.
    static let retryAfterSeconds = 60

    func add(to router: Router<CollectorRequestContext>) {
        router.post("/v1/reports") { request, context in
            do {
                return try await report(request, context)
            } catch let error as HTTPError {
                metrics.refused(Self.reason(error.status))
                throw error
            }
        }
    }

    static func reason(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .unauthorized: "no_certificate"
        case .forbidden: "other_host"
        case .contentTooLarge: "too_large"
        case .serviceUnavailable: "storage"
        default: "bad_request"
        }
    }

    struct Receipt: ResponseEncodable {
        var outcome: String
        var opened: Int
        var closed: Int
    }

    func report(_ request: Request, _ context: CollectorRequestContext) async throws -> Receipt {
        guard let host = context.peer?.host else {
            throw HTTPError(.unauthorized, message: "a report needs the host's client certificate")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxReportBytes)
        } catch is NIOTooManyBytesError {
            // BodyLimit refuses first; this is the route's own guard should it be missing.
            throw HTTPError(.contentTooLarge, message: "a report is at most \(maxReportBytes) bytes")
        }
        var bytes = Array(body.readableBytesView)
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity": break
        case "gzip":
            do { bytes = try Gzip.decompress(bytes, limit: maxReportBytes) } catch .tooLarge(let limit) {
                throw HTTPError(.contentTooLarge, message: "the report inflates past \(limit) bytes")
            } catch {
                throw HTTPError(.badRequest, message: "not gzip: \(error)")
            }
        case let other?:
            throw HTTPError(.unsupportedMediaType, message: "Content-Encoding \(other) is not accepted (gzip is)")
        }
        let snapshot: Snapshot
        do {
            snapshot = try Snapshot(wire: bytes)
        } catch {
            throw HTTPError(.badRequest, message: "not a snapshot: \(error)")
        }
        guard snapshot.schema == Snapshot.currentSchema else {
            throw HTTPError(.badRequest, message: "schema \(snapshot.schema) is not supported (this collector reads \(Snapshot.currentSchema))")
        }
        // Host identity is the certificate: a body naming another host writes nothing.
        guard snapshot.host.hostname == host else {
            context.logger.warning("refused a report", metadata: [
                "certificate": "\(host)", "names": "\(snapshot.host.hostname)", "serial": "\(context.peer?.serial ?? "-")",
            ])
            throw HTTPError(.forbidden, message: "this certificate belongs to \(host), not \(snapshot.host.hostname)")
        }
        let started = ContinuousClock.now
        let outcome: IngestOutcome
        do {
            outcome = try await database.ingest(snapshot, host: host, bodyDigest: Digest.sha256(bytes),
                                                receivedAt: Int64(Date().timeIntervalSince1970), findings: findings)
        } catch let error as StorageUnavailable {
            // Nothing was stored and nothing is wrong with the report: the agent keeps it
            // in its spool (5xx means "wait") and offers it again once space returns.
            context.logger.error("refused a report: cannot store it", metadata: ["host": "\(host)", "error": "\(error)"])
            throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "\(Self.retryAfterSeconds)"],
                            message: "the collector cannot store reports now (\(error)); try again later")
        }
        let receipt = switch outcome {
        case .changed(let opened, let closed): Receipt(outcome: "changed", opened: opened, closed: closed)
        case .unchanged: Receipt(outcome: "unchanged", opened: 0, closed: 0)
        case .duplicate: Receipt(outcome: "duplicate", opened: 0, closed: 0)
        }
        let elapsed = ContinuousClock.now - started
        metrics.accepted(receipt.outcome, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return receipt
    }
}
