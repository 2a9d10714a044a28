import CollectorClient
import CollectorServer
import CollectorStore
import CollectorTestSupport
import OpenSSLTLS
import PortwardenTestSupport
import Testing

/// What the collector answers outside its routes, and that one connection serves
/// several requests when the client keeps it open.
struct RoutingTests {
    @Test func unknownPathsAndMethodsAreNamedAndKeepAliveServesSeveral() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let web = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port),
                                      context: try pki.clientContext(try pki.host("web-01")), timeout: 5)

        let missing = try await blocking { try web.get("/v2/reports") }
        #expect(missing.status == 404 && missing.text == "no such path: /v2/reports\n", "\(missing.status) \(missing.text)")
        let wrongMethod = try await blocking { try web.get("/v1/reports") }
        #expect(wrongMethod.status == 405 && wrongMethod.headers["allow"] == "POST", "\(wrongMethod.status) \(wrongMethod.headers)")

        // Two requests on one connection, the second after the first is answered.
        let port = UInt16(collector.port)
        let context = try pki.clientContext(try pki.host("web-01"))
        let answers = try await blocking { () -> String in
            let socket = try TLSSocket.connect(host: "127.0.0.1", port: port, context: context)
            var text = ""
            for close in [false, true] {
                try socket.write(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\(close ? "Connection: close\r\n" : "")\r\n".utf8))
                let response = try HTTPResponse.read(from: socket)
                text += "\(response.status) \(response.text)"
            }
            return text
        }
        #expect(answers == "200 ok\n200 ok\n")
    }

    @Test func aClientWithoutACertificateCannotSendAReportsWorthOfBody() async throws {
        let pki = try TestPKI()
        let collector = try await RunningCollector.start(pki: pki, database: try CollectorDatabase.inMemory())
        defer { collector.stop() }
        let port = UInt16(collector.port)
        let stranger = try pki.clientContext(nil)
        // Answered at the head, before a byte of the declared body.
        @Sendable func post(_ path: String, declaring length: Int) throws -> HTTPResponse {
            let socket = try TLSSocket.connect(host: "127.0.0.1", port: port, context: stranger)
            try socket.write(Array("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(length)\r\n\r\n".utf8))
            return try HTTPResponse.read(from: socket)
        }
        let report = try await blocking { try post("/v1/reports", declaring: 1 << 20) }
        #expect(report.status == 413 && report.text.contains("at most \(64 << 10) bytes"), "\(report.status) \(report.text)")
        let nowhere = try await blocking { try post("/upload", declaring: 1_000) }
        #expect(nowhere.status == 404, "\(nowhere.status) \(nowhere.text)")
    }

    /// An agent keeps its connection settings and a session cache: after its first
    /// report, each resumes the last one's session — and the collector counts them.
    @Test func aClientWithASessionCacheResumes() async throws {
        let pki = try TestPKI()
        let collector = try await RunningCollector.start(pki: pki, database: try CollectorDatabase.inMemory())
        defer { collector.stop() }
        let agent = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port),
                                        context: try pki.clientContext(try pki.host("web-01")), timeout: 5, sessions: SessionCache())
        for sequence in 1...3 {
            let reply = try await blocking { try agent.post("/v1/reports", body: ReportTests.snapshot(host: "web-01", sequence: UInt64(sequence))) }
            #expect(reply.status == 200, "\(reply.text)")
        }
        let metrics = try await blocking { try agent.get("/metrics") }.text
        #expect(metrics.contains("portwarden_tls_handshakes_total{resumed=\"false\"} 1"), "\(metrics)")
        #expect(metrics.contains("portwarden_tls_handshakes_total{resumed=\"true\"} 3"), "\(metrics)")
    }
}
