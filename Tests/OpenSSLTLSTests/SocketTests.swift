import Foundation
import Testing
import OpenSSLTLS
import PortwardenTestSupport

/// A one-thread echo server: each accepted connection gets "pong:" + what it sent
/// and the name in its client certificate.
final class EchoServer: @unchecked Sendable {
    let fd: Int32
    let port: UInt16
    let context: TLSContext
    private let accepted = DispatchSemaphore(value: 0)

    init(context: TLSContext, connections: Int) throws {
        self.context = context
        let (fd, port) = try #require(loopbackSocket())
        try #require(listen(fd, 8) == 0)
        self.fd = fd
        self.port = port
        let thread = Thread { [self] in
            for _ in 0..<connections {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { break }
                if let tls = try? TLSSocket.accept(fd: client, context: context),
                   let request = try? tls.read() {
                    let name = tls.peerCertificate?.commonName ?? "-"
                    try? tls.write(Array("pong:\(name):".utf8) + request)
                    tls.close()
                }
            }
            accepted.signal()
        }
        thread.start()
    }

    func wait() { accepted.wait(); close(fd) }
}

/// The blocking client against a real TCP listener on loopback (port 0).
struct SocketTests {
    @Test func aRoundTripThenAResumedSession() throws {
        let pki = try TestPKI()
        let server = try EchoServer(context: try pki.serverContext(), connections: 2)
        let client = try pki.clientContext(try pki.host("web-01"))

        let first = try TLSSocket.connect(host: "127.0.0.1", port: server.port, context: client)
        try first.write(Array("ping".utf8))
        #expect(String(decoding: try first.read(), as: UTF8.self) == "pong:web-01:ping")
        #expect(!first.sessionReused)
        let session = try #require(first.session)
        first.close()

        let second = try TLSSocket.connect(host: "127.0.0.1", port: server.port, context: client, session: session)
        try second.write(Array("again".utf8))
        #expect(String(decoding: try second.read(), as: UTF8.self) == "pong:web-01:again")
        #expect(second.sessionReused, "the ticket from the first connection resumes the second")
        second.close()
        server.wait()
    }

    @Test func nothingListeningIsAClearError() throws {
        let pki = try TestPKI()
        let error = try #require(throws: TLSError.self) {
            try TLSSocket.connect(host: "127.0.0.1", port: 1, context: try pki.clientContext(nil))
        }
        #expect(error.description.contains("Connection refused"), "\(error)")
    }
}
