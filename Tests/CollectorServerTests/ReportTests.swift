import CollectorClient
import CollectorServer
import CollectorStore
import CollectorTestSupport
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Real mTLS handshakes on loopback against the collector's application.
struct ReportTests {
    static func snapshot(host: String, sequence: UInt64 = 1, ports: [UInt16] = [22, 557]) -> [UInt8] {
        let snapshot = Snapshot(
            host: Host(hostname: host, machineID: "m-\(host)", bootID: "boot", kernel: "6.1", os: "Debian"),
            sequence: sequence, collectedAt: "2026-11-25T10:00:00Z", complete: true, ownershipComplete: true,
            warnings: [], namespaces: [], listeners: ports.map {
                Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: $0, scope: .any, netns: 1,
                         hostNetns: true, inode: UInt64($0), uid: 0, processes: [])
            }, unresolved: [])
        var writer = JSONWriter()
        writer.value(snapshot)
        return writer.buffer
    }

    func connection(_ pki: TestPKI, _ port: Int, as host: String?) throws -> CollectorConnection {
        CollectorConnection(host: "127.0.0.1", port: UInt16(port),
                            context: try pki.clientContext(try host.map { try pki.host($0) }), timeout: 5)
    }

    @Test func aHostsReportIsStoredUnderItsCertificatesName() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let web = try connection(pki, collector.port, as: "web-01")

        let first = try await blocking { try web.post("/v1/reports", body: Self.snapshot(host: "web-01")) }
        #expect(first.status == 200, "\(first.text)")
        #expect(first.text.contains("\"outcome\":\"changed\""))
        #expect(try database.openListeners(host: "web-01").map(\.port) == [22, 557])

        let again = try await blocking { try web.post("/v1/reports", body: Self.snapshot(host: "web-01")) }
        #expect(again.text.contains("\"outcome\":\"duplicate\""), "a redelivery is acknowledged, not stored")
    }

    @Test func gzipBodiesAreAcceptedAndBombsRefused() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let web = try connection(pki, collector.port, as: "web-01")
        let gzipped = Gzip.compress(Self.snapshot(host: "web-01"))
        let response = try await blocking {
            try web.post("/v1/reports", body: gzipped, extraHeaders: ["Content-Encoding": "gzip"])
        }
        #expect(response.status == 200, "\(response.text)")
        #expect(try await database.hosts(now: 0, staleAfter: 1).map(\.host.name) == ["web-01"])

        // 64 MiB of zeros gzip to ~64 KiB: past the 4 MiB limit once inflated.
        let bomb = Gzip.compress([UInt8](repeating: 0, count: 64 << 20))
        let refused = try await blocking { try web.post("/v1/reports", body: bomb, extraHeaders: ["Content-Encoding": "gzip"]) }
        #expect(refused.status == 413)
        let corrupt = try await blocking {
            try web.post("/v1/reports", body: Array(gzipped.prefix(20)), extraHeaders: ["Content-Encoding": "gzip"])
        }
        #expect(corrupt.status == 400)
        let brotli = try await blocking { try web.post("/v1/reports", body: [1, 2], extraHeaders: ["Content-Encoding": "br"]) }
        #expect(brotli.status == 415)
    }

    @Test func aReportNamingAnotherHostIsRefusedAndWritesNothing() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let web = try connection(pki, collector.port, as: "web-01")
        let response = try await blocking { try web.post("/v1/reports", body: Self.snapshot(host: "db-01")) }
        #expect(response.status == 403)
        #expect(try await database.hosts(now: 0, staleAfter: 1).isEmpty)

        let metrics = try await blocking { try web.get("/metrics") }
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("portwarden_reports_refused_total{reason=\"other_host\"} 1"), "\(metrics.text)")
        #expect(metrics.text.contains("portwarden_reports_total{outcome=\"changed\"} 0"))
        // At least the scrape's own connection; the refused one may not have closed yet.
        let open = metrics.text.split(separator: "\n").first { $0.hasPrefix("portwarden_open_connections ") }
        #expect((open?.split(separator: " ").last).flatMap { Int($0) }.map { $0 >= 1 } == true, "\(String(describing: open))")
    }

    @Test func refusedClientsDoNotStopAGoodOne() async throws {
        let pki = try TestPKI()
        let stranger = try TestPKI(caName: "another CA")
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let port = collector.port

        // No client certificate: the handshake succeeds (enrollment needs that), the report does not.
        let anonymous = try connection(pki, port, as: nil)
        let unauthenticated = try await blocking { try anonymous.post("/v1/reports", body: Self.snapshot(host: "x")) }
        #expect(unauthenticated.status == 401)
        #expect(try await blocking { try anonymous.get("/metrics") }.status == 401)
        // A certificate from another CA.
        let foreign = try stranger.host("web-01")
        let strangerClient = CollectorConnection(host: "127.0.0.1", port: UInt16(port),
                                                 context: try TLSContext.client(trust: pki.ca.certificate,
                                                                                certificate: foreign.0, key: foreign.1))
        let unknownCA = await #expect(throws: RequestFailed.self) {
            try await blocking { try strangerClient.post("/v1/reports", body: Self.snapshot(host: "web-01")) }
        }
        #expect(unknownCA?.description.contains("unknown ca") == true, "\(String(describing: unknownCA))")
        // An expired certificate.
        let expiredIdentity = try pki.host("web-01", days: 1, from: -3 * 86_400)
        let expired = CollectorConnection(host: "127.0.0.1", port: UInt16(port),
                                          context: try pki.clientContext(expiredIdentity))
        let expiredError = await #expect(throws: RequestFailed.self) {
            try await blocking { try expired.post("/v1/reports", body: Self.snapshot(host: "web-01")) }
        }
        #expect(expiredError?.description.contains("expired") == true, "\(String(describing: expiredError))")
        // Plaintext HTTP and garbage on the TLS port.
        for junk in ["GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", "\u{16}\u{03}\u{01}garbage garbage garbage"] {
            let reply = try await blocking { try rawExchange(port: port, Array(junk.utf8)) }
            #expect(!String(decoding: reply, as: UTF8.self).contains("200"), "no HTTP answer in the clear")
        }
        // And the good client is still served.
        let web = try connection(pki, port, as: "web-01")
        let response = try await blocking { try web.post("/v1/reports", body: Self.snapshot(host: "web-01")) }
        #expect(response.status == 200)
        #expect(try await database.hosts(now: 0, staleAfter: 1).map(\.host.name) == ["web-01"])
        let metrics = try await blocking { try web.get("/metrics") }
        #expect(metrics.text.contains("portwarden_tls_handshake_failures_total 4"), "other CA, expired, plaintext, garbage: \(metrics.text)")
        #expect(metrics.text.contains("portwarden_reports_total{outcome=\"changed\"} 1"))
        #expect(metrics.text.contains("portwarden_ingest_seconds_count 1"))
    }
}

/// Sends `bytes` over plain TCP and returns whatever comes back before the close.
func rawExchange(port: Int, _ bytes: [UInt8]) throws -> [UInt8] {
    let fd = try TCP.connect(host: "127.0.0.1", port: UInt16(port), timeout: 5)
    defer { close(fd) }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    var reply: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return reply }
        reply += buffer.prefix(n)
    }
}
