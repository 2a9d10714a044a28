import CollectorStore
import Foundation
import Hummingbird
import Logging
import OpenSSLTLS
import PortwardenModel

/// `POST /v1/reports`: a snapshot from a host, stored under the name in its certificate.
struct ReportRoutes {
    let database: CollectorDatabase
    let maxReportBytes: Int
    let metrics: CollectorMetrics
    /// Evaluates each stored snapshot in ingest's transaction; nil without policies.
    let findings: FindingEvaluator?

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
        let body = try await request.body.collect(upTo: maxReportBytes)
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
        let outcome = try await database.ingest(snapshot, host: host, bodyDigest: Digest.sha256(bytes),
                                                receivedAt: Int64(Date().timeIntervalSince1970), findings: findings)
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
