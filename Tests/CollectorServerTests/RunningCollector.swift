import CollectorServer
import CollectorStore
import Foundation
import Logging
import OpenSSLTLS
import PortwardenTestSupport

/// `portwarden serve`'s application on a loopback port the kernel picks, until `stop()`.
final class RunningCollector: @unchecked Sendable {
    let port: Int
    private let task: Task<Void, any Error>

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    static func start(pki: TestPKI, database: CollectorDatabase, port: Int = 0) async throws -> RunningCollector {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test.collector")
        logger.logLevel = .critical  // cancelling the service at the end logs shutdown noise
        let app = CollectorApplication.build(settings: .init(host: "127.0.0.1", port: port), tls: try pki.serverContext(),
                                             database: database, logger: logger,
                                             onRunning: { port in continuation.yield(port) })
        let task = Task { try await app.runService() }
        for await port in ports { return RunningCollector(port: port, task: task) }
        throw CancellationError()
    }

    func stop() { task.cancel() }
}

/// Runs blocking client code on its own thread, so the server's tasks keep their threads.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A loopback port nothing listens on (the kernel picked it, and it was let go).
func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
