import CollectorClient
import CollectorServer
import CollectorStore
import CollectorTestSupport
import Foundation
import Glibc
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Synchronization
import Testing

/// An agent's reports go on the connection its last report left open, while the
/// collector keeps it; a kept connection never costs a report, and never locks a new
/// connection out.
struct KeptConnectionTests {
    static func report(_ host: String, _ sequence: UInt64, port: UInt16 = 22) -> [UInt8] {
        var snapshot = UnchangedReportTests.scanned(round: Int(sequence), ports: [port], host: host)
        snapshot.sequence = sequence
        return snapshot.wire(fitting: WireLimits.snapshotBytes).bytes
    }

    /// Handshakes the collector completed, full and resumed together, from a /metrics
    /// fetched on a connection of its own (which counts one more).
    static func handshakes(_ metrics: String) -> Int {
        ["false", "true"].compactMap { metricSample(metrics, "portwarden_tls_handshakes_total{resumed=\"\($0)\"}") }.reduce(0, +)
    }

    @Test func reportsGoOnOneConnectionWhileTheCollectorKeepsIt() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let collector = try await RunningCollector.start(pki: pki, database: database)
        defer { collector.stop() }
        let context = try pki.clientContext(try pki.host("web-01"))
        let agent = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: context, timeout: 5,
                                        sessions: SessionCache(), kept: KeptConnection())
        let first = try await blocking { try agent.post("/v1/reports", body: Self.report("web-01", 1)) }
        #expect(first.status == 200)
        #expect(first.headers["keep-alive"] == "timeout=90", "the collector says how long it keeps the connection")
        #expect(first.headers["connection"] == nil)
        for sequence in 2...4 {
            let answer = try await blocking { try agent.post("/v1/reports", body: Self.report("web-01", UInt64(sequence))) }
            #expect(answer.status == 200, "report \(sequence)")
            // What the agent's log says carried a cycle's reports: the dearest since it last asked.
            #expect(agent.kept?.dearestCarrier() == (sequence == 2 ? .full : .kept), "report \(sequence)")
        }
        let metrics = try await blocking { try agent.get("/metrics").text }
        #expect(Self.handshakes(metrics) == 2, "one for the four reports, one for /metrics: \(metrics)")
        #expect(metricSample(metrics, "portwarden_idle_connections") == 1, "the agent's connection, waiting for its next report")
        #expect(metricSample(metrics, "portwarden_requests_total{connection=\"kept\"}") == 3, "\(metrics)")
        #expect(metricSample(metrics, "portwarden_requests_total{connection=\"new\"}") == 2, "the first report, and /metrics")
        #expect(try database.host(named: "web-01")?.lastSequence == 4)
    }

    /// Given up by the agent (about to end) or closed by the collector (idle too long),
    /// a kept connection costs no report, and the next resumes the TLS session: a
    /// connection freed without a close_notify would have spoiled it (OpenSSL marks its
    /// session not resumable), making every reconnection a full handshake.
    @Test func aConnectionGivenUpOrClosedCostsNoReportAndNoFullHandshake() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        var settings = CollectorApplication.Settings()
        settings.keepAliveTimeout = 1
        let collector = try await RunningCollector.start(pki: pki, database: database, settings: settings)
        defer { collector.stop() }
        let context = try pki.clientContext(try pki.host("web-01"))
        let agent = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: context, timeout: 5,
                                        sessions: SessionCache(), kept: KeptConnection())
        #expect(try await blocking { try agent.post("/v1/reports", body: Self.report("web-01", 1)) }.status == 200)
        #expect(agent.kept?.dearestCarrier() == .full)
        // Past the agent's margin (a tenth of the stated second), before the collector's close: given up.
        try await Task.sleep(for: .milliseconds(950))
        #expect(try await blocking { try agent.post("/v1/reports", body: Self.report("web-01", 2)) }.status == 200)
        #expect(agent.kept?.dearestCarrier() == .resumed)
        // Well past the collector's second: it has closed the connection.
        try await Task.sleep(for: .milliseconds(1_600))
        #expect(try await blocking { try agent.post("/v1/reports", body: Self.report("web-01", 3)) }.status == 200)
        #expect(try database.host(named: "web-01")?.lastSequence == 3)
        let plain = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: context, timeout: 5)
        let metrics = try await blocking { try plain.get("/metrics").text }
        #expect((metricSample(metrics, "portwarden_idle_connections_closed_total{reason=\"keepalive_timeout\"}") ?? 0) >= 1, "\(metrics)")
        #expect(metricSample(metrics, "portwarden_tls_handshakes_total{resumed=\"true\"}") == 2,
                "the second and third reports resumed the session: \(metrics)")
        #expect(metricSample(metrics, "portwarden_tls_handshakes_total{resumed=\"false\"}") == 2, "the first, and /metrics'")
    }

    /// At the total cap, and at the per-address cap (all the test's connections come from 127.0.0.1).
    @Test(arguments: [ConnectionLimits(total: 3, perAddress: 10), ConnectionLimits(total: 10, perAddress: 3)])
    func anIdleConnectionGivesWayAtTheCap(_ limits: ConnectionLimits) async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        var settings = CollectorApplication.Settings()
        settings.connectionLimits = limits
        let collector = try await RunningCollector.start(pki: pki, database: database, settings: settings)
        defer { collector.stop() }
        let agents = try ["web-01", "web-02", "web-03", "web-04"].map { name in
            (name, CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: try pki.clientContext(try pki.host(name)),
                                       timeout: 5, sessions: SessionCache(), kept: KeptConnection()))
        }
        // Three hosts fill the cap with kept connections; the fourth is still served, and
        // the first (idle longest) reconnects at its next report.
        for (name, agent) in agents {
            #expect(try await blocking { try agent.post("/v1/reports", body: Self.report(name, 1)) }.status == 200, "\(name)")
            try await Task.sleep(for: .milliseconds(50))
        }
        let again = try await blocking { try agents[0].1.post("/v1/reports", body: Self.report("web-01", 2)) }
        #expect(again.status == 200)
        for name in ["web-01", "web-02", "web-03", "web-04"] { #expect(try database.host(named: name) != nil, "\(name)") }
        let metrics = try await blocking { try agents[3].1.get("/metrics").text }
        #expect((metricSample(metrics, "portwarden_idle_connections_closed_total{reason=\"gave_way\"}") ?? 0) >= 2, "\(metrics)")
        #expect(metricSample(metrics, "portwarden_connections_refused_total{reason=\"max_connections\"}") == 0, "\(metrics)")
        #expect(metricSample(metrics, "portwarden_connections_refused_total{reason=\"max_connections_per_address\"}") == 0, "\(metrics)")
        #expect(metricSample(metrics, "portwarden_open_connections") == 3, "at the cap, each newcomer in place of an idle one")
    }

    /// A stranger's idle connection (no fleet certificate) gives way before a host's,
    /// however much longer the host's has been idle.
    @Test func aStrangersIdleConnectionGivesWayBeforeAHosts() async throws {
        let pki = try TestPKI()
        var settings = CollectorApplication.Settings()
        settings.connectionLimits = ConnectionLimits(total: 3, perAddress: 10)
        let collector = try await RunningCollector.start(pki: pki, database: try CollectorDatabase.inMemory(), settings: settings)
        defer { collector.stop() }
        let port = UInt16(collector.port)
        func agent(_ name: String) throws -> CollectorConnection {
            CollectorConnection(host: "127.0.0.1", port: port, context: try pki.clientContext(try pki.host(name)), timeout: 5,
                                sessions: SessionCache(), kept: KeptConnection())
        }
        let web = try agent("web-01"), db = try agent("db-01"), app = try agent("app-01")
        #expect(try await blocking { try web.post("/v1/reports", body: Self.report("web-01", 1)) }.status == 200)
        let anonymous = try pki.clientContext(nil)
        let stranger = try await blocking { () -> TLSSocket in
            let socket = try TLSSocket.connect(host: "127.0.0.1", port: port, context: anonymous, timeout: 5)
            try socket.write(Array("GET /v1/ca HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            _ = try HTTPResponse.read(from: socket)
            return socket
        }
        #expect(try await blocking { try db.post("/v1/reports", body: Self.report("db-01", 1)) }.status == 200)
        // At the cap: app-01's connection takes the stranger's place, not web-01's.
        #expect(try await blocking { try app.post("/v1/reports", body: Self.report("app-01", 1)) }.status == 200)
        #expect(try await blocking { (try? stranger.read()) == [] }, "the stranger's connection was closed")
        #expect(try await blocking { try web.post("/v1/reports", body: Self.report("web-01", 2)) }.status == 200)
        let metrics = try await blocking { try CollectorConnection(host: "127.0.0.1", port: port, context: try pki.clientContext(
            try pki.host("prometheus")), timeout: 5).get("/metrics").text }
        #expect(metricSample(metrics, "portwarden_requests_total{connection=\"kept\"}") == 1, "web-01's second report, on its kept connection")
    }

    @Test func aConnectionWithoutACertificateIsNotKeptLongerThanBeforeItsFirstRequest() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        var settings = CollectorApplication.Settings(headerTimeout: 1)
        settings.keepAliveTimeout = 60
        let collector = try await RunningCollector.start(pki: pki, database: database, settings: settings)
        defer { collector.stop() }
        let port = UInt16(collector.port)
        let anonymous = try pki.clientContext(nil)
        let started = Date()
        let closed = try await blocking { () -> Bool in
            let socket = try TLSSocket.connect(host: "127.0.0.1", port: port, context: anonymous)
            try socket.write(Array("GET /v1/ca HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            let answer = try HTTPResponse.read(from: socket)
            guard answer.headers["keep-alive"] == "timeout=1" else { return false }  // what it is told, too
            return (try? socket.read()) == []  // waits until the collector closes it
        }
        #expect(closed)
        #expect(Date().timeIntervalSince(started) < 10, "closed after the header timeout, not the keep-alive one")
    }

    /// What could hold a connection, or memory, past its answer: a protocol upgrade (NIO's
    /// decoder would keep everything sent after it for an upgrade handler there is not),
    /// and a request NIO cannot parse (answered 400, then left open until the header
    /// timeout). Both are answered and closed at once.
    @Test(arguments: [
        "GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n" + String(repeating: "x", count: 65_536),
        "POST /v1/enroll HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ])
    func anUpgradeOrAnUnparseableRequestIsAnsweredAndClosedAtOnce(_ request: String) async throws {
        let pki = try TestPKI()
        let collector = try await RunningCollector.start(pki: pki, database: try CollectorDatabase.inMemory())
        defer { collector.stop() }
        let port = UInt16(collector.port), anonymous = try pki.clientContext(nil)
        let started = Date()
        let (status, closed) = try await blocking { () -> (Int, Bool) in
            let socket = try TLSSocket.connect(host: "127.0.0.1", port: port, context: anonymous, timeout: 20)
            try? socket.write(Array(request.utf8))
            let answer = try HTTPResponse.read(from: socket)
            return (answer.status, (try? socket.read()) == [])
        }
        #expect(status == 400 && closed)
        #expect(Date().timeIntervalSince(started) < 10, "closed at once, not at the 30 s header timeout")
    }

    /// A collector that answers the first request and keeps the connection, then closes
    /// it as the second arrives (as a restart or a close racing the request would): the
    /// report goes again on a new connection, and is answered.
    @Test func aReportOnAConnectionClosedUnderItGoesAgainOnANewOne() async throws {
        let pki = try TestPKI()
        guard let (fd, port) = loopbackSocket(), listen(fd, 8) == 0 else { throw CancellationError() }
        defer { close(fd) }
        let context = try pki.serverContext()
        let seen = Shared<[(connection: Int, sequence: UInt64?)]>([])
        let server = Thread {
            for connection in 1...2 {
                let client = accept(fd, nil, nil)
                guard client >= 0, let tls = try? TLSSocket.accept(fd: client, context: context, timeout: 60) else { return }
                // 60 s to read a request: on a loaded machine the second report may come late.
                while let (_, body) = readHTTPRequest(tls) {
                    seen.value.withLock { $0.append((connection, (try? Snapshot(wire: body))?.sequence)) }
                    // The first connection's second request is never answered: it closes.
                    if connection == 1, seen.value.withLock({ $0.count }) == 2 { break }
                    let body = #"{"outcome":"accepted"}"#
                    try? tls.write(Array("HTTP/1.1 200 OK\r\nKeep-Alive: timeout=60\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
                }
                tls.close()
            }
        }
        server.start()
        let agent = CollectorConnection(host: "127.0.0.1", port: port, context: try pki.clientContext(try pki.host("web-01")),
                                        timeout: 5, sessions: SessionCache(), kept: KeptConnection())
        #expect(try await blocking { try agent.post("/v1/reports", body: Self.report("web-01", 1)) }.status == 200)
        #expect(try await blocking { try agent.post("/v1/reports", body: Self.report("web-01", 2)) }.status == 200)
        let requests = seen.value.withLock { $0 }
        #expect(requests.map(\.connection) == [1, 1, 2] && requests.map(\.sequence) == [1, 2, 2], "\(requests)")
    }
}

/// A value the test's threads share.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
}
