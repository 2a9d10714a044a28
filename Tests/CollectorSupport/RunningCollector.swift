import CollectorServer
import CollectorStore
import Foundation
import Logging
import OpenSSLTLS
import PortwardenTestSupport

/// `portwarden serve`'s application on a loopback port the kernel picks, until `stop()`.
public final class RunningCollector: @unchecked Sendable {
    public let port: Int
    private let task: Task<Void, any Error>

    private init(port: Int, task: Task<Void, any Error>) {
        self.port = port
        self.task = task
    }

    public static func start(pki: TestPKI, database: any HistoryStore, port: Int = 0, enrollmentSecret: String? = nil,
                      settings: CollectorApplication.Settings = .init(), policy: PolicyHolder? = nil,
                      metrics: CollectorMetrics = CollectorMetrics(),
                      enrollment: CollectorApplication.Enrollment? = nil) async throws -> RunningCollector {
        var settings = settings
        settings.host = "127.0.0.1"
        settings.port = port
        if let enrollmentSecret {  // as `portwarden enroll secret` keeps it: a digest in the database
            try database.rotateSecret(digest: CredentialText.digest(enrollmentSecret), at: Int64(Date().timeIntervalSince1970),
                                      by: "test")
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "test.collector")
        logger.logLevel = .critical  // cancelling the service at the end logs shutdown noise
        // As `portwarden serve` runs it: certificates verified when offered, required by
        // every route but enrollment.
        let app = CollectorApplication.build(settings: settings,
                                             tls: try pki.serverContext(.optional), database: database, logger: logger,
                                             enrollment: enrollment ?? .init(ca: pki.ca), metrics: metrics,
                                             policy: policy,
                                             onRunning: { port in continuation.yield(port) })
        let task = Task {
            // A service that ends before it listens (its port still taken) must end the wait below, not hang it.
            defer { continuation.finish() }
            try await app.runService()
        }
        for await port in ports { return RunningCollector(port: port, task: task) }
        try await task.value
        throw CancellationError()
    }

    public func stop() { task.cancel() }
}
