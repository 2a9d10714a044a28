import CollectorClient
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Synchronization

/// A collector that answers what the test says, on one thread: for the answers the real
/// one gives rarely (429, 503, 500) or never (a broken report it keeps failing on).
final class StubCollector: Sendable {
    let port: UInt16
    private let fd: Int32
    private let received = Mutex<[Request]>([])

    struct Request: Sendable {
        /// The report it carried; nil when it was not one.
        var snapshot: Snapshot?
        var bytes: Int
        var sequence: UInt64? { snapshot?.sequence }
    }

    /// `answer` gets each request and returns the whole response: status line, headers, body.
    init(pki: TestPKI, answer: @escaping @Sendable (Request) -> String) throws {
        guard let (fd, port) = loopbackSocket(), listen(fd, 16) == 0 else { throw CancellationError() }
        self.fd = fd
        self.port = port
        let context = try pki.serverContext()
        Thread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                guard let tls = try? TLSSocket.accept(fd: client, context: context, timeout: 5),
                      let (_, body) = readHTTPRequest(tls) else { continue }
                let request = Request(snapshot: try? Snapshot(wire: body), bytes: body.count)
                received.withLock { $0.append(request) }
                try? tls.write(Array(answer(request).utf8))
                tls.close()
            }
        }.start()
    }

    /// What it was sent, in order.
    var requests: [Request] { received.withLock { $0 } }
    /// The sequences of the snapshots it was sent, in order.
    var sequences: [UInt64?] { requests.map(\.sequence) }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    /// Forgets what it was sent.
    func forget() { received.withLock { $0.removeAll() } }

    static func answer(_ status: Int, _ headers: [String] = [], _ body: String = "") -> String {
        "HTTP/1.1 \(status) Whatever\r\n" + headers.map { $0 + "\r\n" }.joined()
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
    }
}
