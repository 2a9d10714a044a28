import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// A request's key type, and the rule on which keys a host may have held to what our TLS
/// really does: every key the rule accepts completes a mutual handshake, every key it
/// refuses fails one.
struct PublicKeyTypeTests {
    /// A key made by the openssl tool (`genpkey` arguments), as PEM.
    func key(_ arguments: [String]) throws -> PrivateKey {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-key-\(UUID().uuidString).pem").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = ["genpkey"] + arguments + ["-out", path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "openssl genpkey \(arguments)")
        return try PrivateKey(pem: StateFile.read(path))
    }

    static let keys: [([String], PublicKeyType, Bool)] = [
        (["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"], .ec(curve: "P-256"), true),
        (["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"], .ec(curve: "P-384"), true),
        (["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], .rsa(bits: 2048), true),
        (["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"], .rsa(bits: 1024), false),
        (["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"], .ec(curve: "secp256k1"), false),
    ]

    @Test(arguments: keys)
    func theRuleAgreesWithTheHandshake(_ arguments: [String], _ type: PublicKeyType, _ accepted: Bool) throws {
        let pki = try TestPKI()
        let key = try key(arguments)
        let request = try CertificateRequest(key: key, commonName: "web-01")
        #expect(request.keyType == type)
        #expect(type.isAcceptedForHosts == accepted)
        // Were it signed anyway: our client context must take it (OpenSSL refuses to load an
        // RSA-1024 key at all), then the collector's side of the handshake.
        let certificate = try pki.ca.issue(request, commonName: "web-01", usage: .client, days: 1)
        let server = try TLSConnection(context: try pki.serverContext())
        let completed: Bool
        if let context = try? pki.clientContext((certificate, key)) {
            let client = try TLSConnection(context: context, serverName: "localhost")
            completed = (try? HandshakeTests().handshake(client, server)) != nil && server.peerCertificate != nil
        } else {
            completed = false
        }
        #expect(completed == accepted, "\(type): the handshake \(completed ? "completed" : "failed")")
    }

    @Test func theAgentsKeyIsP256() throws {
        #expect(try CertificateRequest(key: PrivateKey.generate(), commonName: "a").keyType == .ec(curve: "P-256"))
        #expect(PublicKeyType.rsa(bits: 1024).description == "an RSA key of 1024 bits")
        #expect(!PublicKeyType.rsa(bits: 8192).isAcceptedForHosts && !PublicKeyType.other("ED25519").isAcceptedForHosts)
    }
}
