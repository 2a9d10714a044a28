import CollectorClient
import CollectorServer
import CollectorStore
import CollectorTestSupport
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import Testing

/// What renewal must refuse however the host words it: an expired certificate (over a
/// resumed session, or a connection kept alive past its end).
struct RenewalHardeningTests {
    /// A certificate for `name` from `enrollment`'s CA, recorded as `enroll sign` records it.
    static func enrolled(_ name: String, _ enrollment: CollectorApplication.Enrollment, _ database: CollectorDatabase,
                         key: PrivateKey? = nil) throws -> (Certificate, PrivateKey) {
        let key = try key ?? PrivateKey.generate()
        let now = Int64(Date().timeIntervalSince1970)
        var pem = ""
        try database.recordSigned(by: "test", at: now) {
            let (record, text) = try enrollment.issue(try CertificateRequest(key: key, commonName: name), name: name, at: now)
            pem = text
            return record
        }
        return (try Certificate(pem: pem), key)
    }

    /// Sleeps until `certificate` has ended (OpenSSL: the second after notAfter).
    static func waitOut(_ certificate: Certificate) async throws {
        while Int64(Date().timeIntervalSince1970) <= certificate.notAfter + 1 {
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    static func renewal(_ key: PrivateKey, _ name: String) throws -> [UInt8] {
        Array(try JSONEncoder().encode(["csr": try CertificateRequest(key: key, commonName: name).pem()]))
    }

    @Test func anExpiredCertificateIsRefusedOverAResumedSession() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        // 6 s: both reports must land before it ends, on a machine busy with every other suite.
        let enrollment = CollectorApplication.Enrollment(ca: pki.ca, lifetime: 6)
        let metrics = CollectorMetrics()
        let collector = try await RunningCollector.start(pki: pki, database: database, metrics: metrics, enrollment: enrollment)
        defer { collector.stop() }
        let identity = try Self.enrolled("web-01", enrollment, database)
        // Two sessions, one for each request after the end: one refused at resumption
        // is not offered again.
        let context = try pki.clientContext(identity)
        let agents = [SessionCache(), SessionCache()].map {
            CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port), context: context, timeout: 5, sessions: $0)
        }
        for (sequence, agent) in agents.enumerated() {
            let reply = try await blocking { try agent.post("/v1/reports", body: ReportTests.snapshot(host: "web-01", sequence: UInt64(sequence + 1))) }
            #expect(reply.status == 200, "\(reply.text)")
            #expect(agent.sessions?.session != nil)
        }

        try await Self.waitOut(identity.0)
        // The session (an hour) outlives the certificate: neither a report nor a renewal
        // is answered over it.
        let report = try? await blocking { try agents[0].post("/v1/reports", body: ReportTests.snapshot(host: "web-01", sequence: 3)) }
        #expect(report == nil, "\(report.map { "\($0.status) \($0.text)" } ?? "")")
        let body = try Self.renewal(PrivateKey.generate(), "web-01")
        let renewed = try? await blocking { try agents[1].post("/v1/renew", body: body) }
        #expect(renewed == nil, "\(renewed.map { "\($0.status) \($0.text)" } ?? "")")
        #expect(try database.certificates(host: "web-01").count == 1, "nothing issued")
        // Refused after resuming (a full handshake would have failed in OpenSSL instead).
        let counted = metrics.render(hosts: 0, staleHosts: 0)
        #expect(counted.contains("portwarden_tls_handshakes_total{resumed=\"true\"} 2"), "\(counted)")
        #expect(counted.contains("portwarden_reports_refused_total{reason=\"expired\"} 2"), "\(counted)")
    }

    @Test func aConnectionKeptAlivePastItsCertificatesEndIsRefusedAndRenewsNoMore() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let enrollment = CollectorApplication.Enrollment(ca: pki.ca, lifetime: 2)
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollment: enrollment)
        defer { collector.stop() }
        let identity = try Self.enrolled("web-01", enrollment, database)
        // Two connections opened and used while it is valid, kept alive past its end.
        var sockets: [TLSSocket] = []
        for _ in 0..<2 {
            let socket = try TLSSocket.connect(host: "127.0.0.1", port: UInt16(collector.port),
                                               context: try pki.clientContext(identity), timeout: 10)
            try socket.write(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
            #expect(try HTTPResponse.read(from: socket).status == 200)
            sockets.append(socket)
        }
        defer { for socket in sockets { socket.close() } }

        try await Self.waitOut(identity.0)
        // It reports no more: any request on it is refused once the certificate has ended.
        let report = ReportTests.snapshot(host: "web-01")
        try sockets[0].write(Array("POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: \(report.count)\r\n\r\n".utf8) + report)
        let late = try HTTPResponse.read(from: sockets[0])
        #expect(late.status == 403 && late.text.contains("expired"), "\(late.status) \(late.text)")
        #expect(try database.host(named: "web-01") == nil, "nothing stored")
        // Nor renews.
        let body = try Self.renewal(PrivateKey.generate(), "web-01")
        try sockets[1].write(Array("POST /v1/renew HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body)
        let answer = try HTTPResponse.read(from: sockets[1])
        #expect(answer.status == 403 && answer.text.contains("expired"), "\(answer.status) \(answer.text)")
        #expect(try database.certificates(host: "web-01").count == 1, "nothing issued")
    }

    /// The lost answer's path (the same next key, asked again) signs each time: bounded
    /// per name, then 429 with when to ask again, counted in /metrics.
    @Test func renewalsAskedInALoopAreThrottled() async throws {
        let pki = try TestPKI()
        let database = try CollectorDatabase.inMemory()
        let enrollment = CollectorApplication.Enrollment(ca: pki.ca)
        let metrics = CollectorMetrics()
        let collector = try await RunningCollector.start(pki: pki, database: database, metrics: metrics, enrollment: enrollment)
        defer { collector.stop() }
        let agent = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port),
                                        context: try pki.clientContext(try Self.enrolled("web-01", enrollment, database)), timeout: 5)
        let body = try Self.renewal(PrivateKey.generate(), "web-01")
        var statuses: [Int] = []
        for _ in 0...CollectorDatabase.renewalsPerHour {
            statuses.append(try await blocking { try agent.post("/v1/renew", body: body) }.status)
        }
        #expect(statuses == Array(repeating: 200, count: CollectorDatabase.renewalsPerHour) + [429], "\(statuses)")
        let refused = try await blocking { try agent.post("/v1/renew", body: body) }
        let wait = try #require(refused.headers["retry-after"].flatMap { Int($0) }, "\(refused.headers)")
        #expect(refused.status == 429 && (3_590...3_600).contains(wait), "\(refused.status) \(wait) \(refused.text)")
        #expect(try database.certificates(host: "web-01").count == 1 + CollectorDatabase.renewalsPerHour)
        let counted = metrics.render(hosts: 0, staleHosts: 0)
        #expect(counted.contains("portwarden_reports_refused_total{reason=\"renewal_throttled\"} 2"), "\(counted)")
    }

    /// A host whose certificate another CA signed is asked to renew even when that CA
    /// has the signing CA's name (two rotations in one second, once): told apart by key.
    @Test func aCertificateFromAnotherCAOfTheSameNameIsAskedToRenew() async throws {
        let pki = try TestPKI(caName: "portwarden fleet CA")
        let database = try CollectorDatabase.inMemory()
        let signing = try CertificateAuthority.create(commonName: "portwarden fleet CA")
        let collector = try await RunningCollector.start(pki: pki, database: database, enrollment: .init(ca: signing))
        defer { collector.stop() }
        func report(_ identity: (Certificate, PrivateKey), _ sequence: UInt64) async throws -> HTTPResponse {
            let agent = CollectorConnection(host: "127.0.0.1", port: UInt16(collector.port),
                                            context: try pki.clientContext(identity), timeout: 5)
            return try await blocking { try agent.post("/v1/reports", body: ReportTests.snapshot(host: "web-01", sequence: sequence)) }
        }
        let old = try await report(try pki.host("web-01"), 1)
        #expect(old.status == 200 && old.headers["x-portwarden-renew"] == "ca-rotated", "\(old.status) \(old.headers)")
    }
}
