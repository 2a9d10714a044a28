import Foundation
import Synchronization
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// `portwarden-agent run` against a fake collector whose server certificate was made
/// with a leaked fleet CA key: the security review's attack on the agent's trust.
extension ServeTests {
    /// It asks the agent to renew and hands it a ten-year certificate from its own CA
    /// with a bundle of that CA and the fleet's, and states a bundle of its CA alone: the
    /// agent installs neither, logs why, and delivered its report all the same.
    @Test func aFakeCollectorCannotInstallItsOwnCAOrCertificate() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let fleet = try TestPKI(caName: "fleet CA")
        let evil = try CertificateAuthority.create(commonName: "evil CA")
        let agentState = state + "/agent"
        try FileManager.default.createDirectory(atPath: agentState, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let (certificate, key) = try fleet.host("web-01", days: 90)
        try key.write(to: agentState + "/host.key")
        try StateFile.write(try certificate.pem(), to: agentState + "/host.pem", mode: 0o644)
        try StateFile.write(try fleet.ca.certificate.pem(), to: agentState + "/ca.pem", mode: 0o644)
        func files() throws -> [String] { try ["host.key", "host.pem", "ca.pem"].map { try StateFile.read(agentState + "/" + $0) } }
        let before = try files()

        let evilAndFleet = try evil.certificate.pem() + fleet.ca.certificate.pem()
        let fake = try FakeCollector(context: fleet.serverContext()) { path, body in
            switch path {
            case "/v1/reports":
                return (200, ["X-Portwarden-Renew: ca-rotated", "X-Portwarden-CA: \(Certificate.bundleDigest([evil.certificate]))"],
                        #"{"status":"changed"}"#)
            case "/v1/ca":
                return (200, [], (try? evil.certificate.pem()) ?? "")
            case "/v1/renew":
                struct Asked: Decodable { var csr: String }
                struct Answer: Encodable { var status = "issued"; var host = "web-01"; var certificate: String; var ca: String }
                guard let asked = try? JSONDecoder().decode(Asked.self, from: Data(body)),
                      let request = try? CertificateRequest(pem: asked.csr),
                      let issued = try? evil.issue(request, commonName: "web-01", usage: .client, days: 3_652).pem(),
                      let json = try? JSONEncoder().encode(Answer(certificate: issued, ca: evilAndFleet)) else { return (400, [], "") }
                return (200, [], String(decoding: json, as: UTF8.self))
            default:
                return (404, [], "")
            }
        }
        defer { fake.stop() }
        let ran = try agent(["run", "--once", "--collector", "127.0.0.1:\(fake.port)", "--state-dir", agentState])
        #expect(ran.status == 0, "the report was delivered all the same: \(ran.output)")
        #expect(ran.output.contains("event=ca_update_refused") && ran.output.contains("event=renewal_refused"), "\(ran.output)")
        #expect(fake.paths.contains("/v1/renew") && fake.paths.contains("/v1/ca"), "\(fake.paths)")
        #expect(try files() == before, "the pair and ca.pem stay")
    }
}

/// A TLS server on loopback answering each request by its path, one at a time.
final class FakeCollector: Sendable {
    let port: UInt16
    private let fd: Int32
    private let seen = Mutex<[String]>([])

    init(context: TLSContext, answer: @escaping @Sendable (String, [UInt8]) -> (Int, [String], String)) throws {
        guard let (fd, port) = loopbackSocket(), listen(fd, 16) == 0 else { throw CancellationError() }
        self.fd = fd
        self.port = port
        Thread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                guard let tls = try? TLSSocket.accept(fd: client, context: context, timeout: 5),
                      let (path, body) = readHTTPRequest(tls) else { continue }
                seen.withLock { $0.append(path) }
                let (status, headers, text) = answer(path, body)
                let response = "HTTP/1.1 \(status) Whatever\r\n" + headers.map { $0 + "\r\n" }.joined()
                    + "Content-Length: \(text.utf8.count)\r\nConnection: close\r\n\r\n" + text
                try? tls.write(Array(response.utf8))
                tls.close()
            }
        }.start()
    }

    /// The paths it was asked, in order.
    var paths: [String] { seen.withLock { $0 } }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}
