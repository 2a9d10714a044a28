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

    func add(to router: Router<CollectorRequestContext>) {
        router.post("/v1/reports") { request, context in try await report(request, context) }
        router.get("/healthz") { _, _ in "ok\n" }
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
        let bytes = Array(body.readableBytesView)
        let snapshot: Snapshot
        do {
            snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(bytes))
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
        let outcome = try await database.ingest(snapshot, host: host, bodyDigest: Digest.sha256(bytes),
                                                receivedAt: Int64(Date().timeIntervalSince1970))
        switch outcome {
        case .changed(let opened, let closed): return Receipt(outcome: "changed", opened: opened, closed: closed)
        case .unchanged: return Receipt(outcome: "unchanged", opened: 0, closed: 0)
        case .duplicate: return Receipt(outcome: "duplicate", opened: 0, closed: 0)
        }
    }
}
