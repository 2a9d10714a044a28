@testable import CollectorServer
import CollectorClient
import CollectorStore
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import OpenSSLTLS
import PortwardenModel

/// The collector's request path above TLS, as `serve` builds it: NIO's HTTP/1.1 codec,
/// BodyLimit, RequestHandler and the routes, on an in-memory database. The first byte
/// picks who sends the rest: 0 an enrolled host's certificate (web-01), 1 a client without
/// one, 2 an enrollment's body handed to the enrollment route directly (it runs on a
/// thread pool in `serve`, which an embedded channel cannot wait for). Beyond "no crash":
/// every reply is a well-formed HTTP/1.1 response (read back with the agent's own parser)
/// and none is a 500 — no request makes the collector fail inside.
struct Harness {
    let service: CollectorService
    let enroll: EnrollRoutes
    let host: PeerIdentity

    /// No limit a fuzzer's million attempts from one address would meet.
    static let unlimited = EnrollmentLimits(perMinute: 1 << 40, burst: 1 << 40, failuresPerMinute: 1 << 40, failureBurst: 1 << 40)

    static let shared: Harness = {
        do {
            var logger = Logger(label: "fuzz")
            logger.logLevel = .critical
            let ca = try CertificateAuthority.create(commonName: "fuzz CA")
            let serverKey = try PrivateKey.generate()
            let server = try ca.issue(for: serverKey, commonName: "127.0.0.1", usage: .server(names: ["127.0.0.1"]), days: 30)
            let tls = try TLSContext.server(certificate: server, key: serverKey, clientCA: ca.certificate, clientCertificates: .optional)
            let database = try CollectorDatabase.inMemory()
            var settings = CollectorApplication.Settings()
            // Every input reaches the decoder: no budget stops a host that reports a million times.
            settings.hostBudget.reportsPerMinute = 1_000_000
            settings.hostBudget.changedListenersPerHour = 100_000_000
            let enrollment = CollectorApplication.Enrollment(ca: ca)
            try database.rotateSecret(digest: CredentialText.digest("fuzz-secret"), at: 0, by: "fuzz")
            let service = CollectorApplication.build(settings: settings, tls: tls, database: database, logger: logger,
                                                     enrollment: enrollment)
            let enroll = EnrollRoutes(database: database, enrollment: enrollment, desk: SigningDesk(queue: nil, logger: logger),
                                      limiter: EnrollmentLimiter(limits: Self.unlimited), policy: nil,
                                      metrics: CollectorMetrics(), logger: logger)
            let hostKey = try PrivateKey.generate()
            let host = PeerIdentity(certificate: try ca.issue(for: hostKey, commonName: "web-01", usage: .client, days: 30))
            return Harness(service: service, enroll: enroll, host: host)
        } catch {
            fatalError("the fuzz collector could not be set up: \(error)")
        }
    }()

    func serve(_ bytes: ArraySlice<UInt8>, certified: Bool) {
        let channel = EmbeddedChannel()
        do {
            try service.configureHTTP(channel.pipeline.syncOperations)
            if certified { channel.pipeline.fireUserInboundEventTriggered(PeerVerified(identity: host)) }
            try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
        } catch {
            // The codec's errors close the channel after answering 400: what was written is checked below.
        }
        var written: [UInt8] = []
        while let part = try? channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = part { written += buffer.readableBytesView }
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        check(written)
    }

    func enrollment(_ body: ArraySlice<UInt8>) {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/enroll")
        let request = CollectorRequest(head: head, body: ByteBuffer(bytes: body), peer: nil,
                                       remoteAddress: IPAddress("127.0.0.1"))
        do {
            let reply = try enroll.enroll(request)
            precondition(reply.status != .internalServerError, "enrollment answered 500")
        } catch let failure as HTTPFailure {
            precondition(failure.status.code >= 400 && failure.status.code < 500, "enrollment refused with \(failure.status)")
        } catch {
            preconditionFailure("enrollment failed inside: \(error)")
        }
    }

    /// Every response the collector wrote, one after another, parses and is no 500.
    func check(_ written: [UInt8]) {
        var rest = written[...]
        while !rest.isEmpty {
            let response: HTTPResponse?
            do { response = try HTTPResponse.parse(Array(rest)) } catch {
                preconditionFailure("the collector wrote a malformed response: \(error)")
            }
            guard let response else { preconditionFailure("the collector wrote half a response") }
            precondition(response.status != 500, "500: \(response.text)")
            // One response consumed: its head, then its body's length.
            let head = rest.firstRange(of: [13, 10, 13, 10])!.upperBound
            rest = rest[(head + response.body.count)...]
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let rest = Array(bytes.dropFirst())[...]
    switch bytes[0] % 3 {
    case 0: Harness.shared.serve(rest, certified: true)
    case 1: Harness.shared.serve(rest, certified: false)
    default: Harness.shared.enrollment(rest)
    }
    return 0
}
