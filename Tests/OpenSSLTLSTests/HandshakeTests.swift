import Testing
import OpenSSLTLS
import PortwardenTestSupport

/// Both ends of the memory-BIO connection, pumped by hand: every refusal the collector
/// must make, and what a good client gets.
struct HandshakeTests {
    /// Moves ciphertext both ways until both handshakes finish; a refusal throws.
    func handshake(_ client: TLSConnection, _ server: TLSConnection) throws {
        for _ in 0..<10 {
            let clientDone = try client.handshake()
            server.feed(client.takeOutput())
            let serverDone = try server.handshake()
            client.feed(server.takeOutput())
            if clientDone && serverDone { return }
        }
        Issue.record("handshake did not finish")
    }

    @Test func aGoodClientIsAcceptedAndNamedByItsCertificate() throws {
        let pki = try TestPKI()
        let server = try TLSConnection(context: try pki.serverContext())
        let client = try TLSConnection(context: try pki.clientContext(try pki.host("web-01")), serverName: "localhost")
        try handshake(client, server)
        #expect(server.peerCertificate?.commonName == "web-01")
        #expect(client.peerCertificate?.commonName == "collector")
        #expect(server.protocolVersion == "TLSv1.3")

        try client.write(Array("POST /v1/reports".utf8))
        server.feed(client.takeOutput())
        #expect(try server.read() == Array("POST /v1/reports".utf8))
        try server.write(Array("202".utf8))
        client.feed(server.takeOutput())
        #expect(try client.read() == Array("202".utf8))
        client.close()
        server.feed(client.takeOutput())
        #expect(try server.read() == nil, "close_notify reads as the end")
    }

    /// What the collector's identity cache rests on: a host's certificate has one
    /// fingerprint whether its session is resumed or made again by a full handshake (which
    /// parses it into another object), and another host's has another.
    /// One connection from handshake to close, offering `session`: the server's end, and
    /// the session the client may offer next.
    func exchange(_ serverContext: TLSContext, _ clientContext: TLSContext,
                  _ session: TLSSession?) throws -> (server: TLSConnection, session: TLSSession?) {
        let server = try TLSConnection(context: serverContext)
        let client = try TLSConnection(context: clientContext, serverName: "localhost", session: session)
        try handshake(client, server)
        try server.write([1])
        client.feed(server.takeOutput())
        _ = try client.read()  // the TLS 1.3 ticket arrives after the handshake
        client.close()
        server.feed(client.takeOutput())
        _ = try server.read()
        server.close()  // freed without its close_notify, OpenSSL would drop the session
        return (server, client.session)
    }

    @Test func aCertificateKeepsItsFingerprintAcrossHandshakes() throws {
        let pki = try TestPKI()
        let serverContext = try pki.serverContext()
        let clientContext = try pki.clientContext(try pki.host("web-01"))
        func exchange(_ session: TLSSession?) throws -> (server: TLSConnection, session: TLSSession?) {
            try self.exchange(serverContext, clientContext, session)
        }
        let first = try exchange(nil)
        let second = try exchange(first.session)
        let full = try exchange(nil)
        #expect(!first.server.sessionReused)
        #expect(second.server.sessionReused)
        #expect(!full.server.sessionReused)
        let original = try #require(first.server.peerCertificate), resumed = try #require(second.server.peerCertificate)
        let again = try #require(full.server.peerCertificate)
        #expect(resumed.fingerprint == original.fingerprint)
        #expect(again.fingerprint == original.fingerprint)
        #expect(original.fingerprint.count == 64)
        #expect(resumed.commonName == "web-01")

        let other = try TLSConnection(context: serverContext)
        try handshake(try TLSConnection(context: try pki.clientContext(try pki.host("web-02")), serverName: "localhost"), other)
        #expect(try #require(other.peerCertificate).fingerprint != original.fingerprint)
    }

    /// A client without a certificate (enrollment) gets no session the server keeps:
    /// strangers' handshakes must not push hosts' sessions out of the cache.
    @Test func aServerKeepsNoSessionForAClientWithoutACertificate() throws {
        let pki = try TestPKI()
        let serverContext = try pki.serverContext(.optional)
        let anonymous = try pki.clientContext(nil)
        let first = try exchange(serverContext, anonymous, nil)
        #expect(first.server.peerCertificate == nil)
        let offered = try #require(first.session, "the client was given a ticket")
        #expect(try !exchange(serverContext, anonymous, offered).server.sessionReused)
        let host = try pki.clientContext(try pki.host("web-01"))
        let hostSession = try #require(try exchange(serverContext, host, nil).session)
        #expect(try exchange(serverContext, host, hostSession).server.sessionReused, "a host's is kept as ever")
    }

    /// A peer refused after its handshake (a revoked certificate) leaves no session behind.
    @Test func aForgottenSessionDoesNotResume() throws {
        let pki = try TestPKI()
        let serverContext = try pki.serverContext()
        let host = try pki.clientContext(try pki.host("web-01"))
        let server = try TLSConnection(context: serverContext)
        let client = try TLSConnection(context: host, serverName: "localhost")
        try handshake(client, server)
        server.forgetSession()
        try server.write([1])
        client.feed(server.takeOutput())
        _ = try client.read()  // the ticket
        let offered = try #require(client.session)
        #expect(try !exchange(serverContext, host, offered).server.sessionReused)
    }

    /// What tells an agent whether its request could have reached the collector: its side
    /// of a TLS 1.3 handshake ends when it sends its Finished, before the server reads it.
    /// Only the server's new session, sent once it has, says the server finished too.
    @Test func aClientKnowsWhenTheServerFinishedTheHandshake() throws {
        let pki = try TestPKI()
        let server = try TLSConnection(context: try pki.serverContext())
        let client = try TLSConnection(context: try pki.clientContext(try pki.host("web-01")), serverName: "localhost")
        #expect(try !client.handshake())
        server.feed(client.takeOutput())  // ClientHello
        #expect(try !server.handshake())
        client.feed(server.takeOutput())  // ServerHello … server Finished
        #expect(try client.handshake(), "the client is done: its Finished is queued")
        try client.write(Array("POST /v1/reports".utf8))
        #expect(!client.serverCompletedHandshake, "a server closing now never read the request")
        server.feed(client.takeOutput())
        #expect(try server.handshake())
        client.feed(server.takeOutput())  // the new session ticket
        _ = try client.read()
        #expect(client.serverCompletedHandshake)
    }

    @Test func aClientWithoutACertificateIsRefused() throws {
        let pki = try TestPKI()
        let server = try TLSConnection(context: try pki.serverContext())
        let client = try TLSConnection(context: try pki.clientContext(nil), serverName: "localhost")
        let error = try #require(throws: TLSError.self) { try handshake(client, server) }
        #expect(error.description.contains("certificate"), "\(error)")
    }

    @Test func aCertificateFromAnotherCAIsRefused() throws {
        let pki = try TestPKI()
        let stranger = try TestPKI(caName: "someone else's CA")
        let server = try TLSConnection(context: try pki.serverContext())
        let identity = try stranger.host("web-01")
        let impostor = try TLSConnection(context: try TLSContext.client(trust: pki.ca.certificate, certificate: identity.0,
                                                                        key: identity.1), serverName: "localhost")
        let error = try #require(throws: TLSError.self) { try handshake(impostor, server) }
        #expect(error.description.contains("certificate verify failed"), "\(error)")
    }

    @Test func anExpiredCertificateIsRefused() throws {
        let pki = try TestPKI()
        let server = try TLSConnection(context: try pki.serverContext())
        let expired = try pki.host("web-01", days: 1, from: -3 * 86_400)
        let client = try TLSConnection(context: try pki.clientContext(expired), serverName: "localhost")
        let error = try #require(throws: TLSError.self) { try handshake(client, server) }
        #expect(error.description.contains("expired"), "\(error)")
    }

    @Test func theAgentRefusesACollectorWithTheWrongName() throws {
        let pki = try TestPKI()
        let server = try TLSConnection(context: try pki.serverContext())
        let client = try TLSConnection(context: try pki.clientContext(try pki.host("web-01")), serverName: "other.example")
        let error = try #require(throws: TLSError.self) { try handshake(client, server) }
        #expect(error.description.contains("hostname mismatch"), "\(error)")
    }

    @Test func enrollmentAcceptsAClientWithoutACertificate() throws {
        let pki = try TestPKI()
        let server = try TLSConnection(context: try pki.serverContext(.optional))
        let client = try TLSConnection(context: try pki.clientContext(nil), serverName: "127.0.0.1")
        try handshake(client, server)
        #expect(server.peerCertificate == nil)
    }
}
