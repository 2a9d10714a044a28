import CollectorStore
import Logging
import NIOPosix
import OpenSSLTLS

/// The collector: HTTP/1.1 over OpenSSL TLS in front of the SQLite history.
public enum CollectorApplication {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var maxReportBytes: Int
        /// Seconds a connection may go without a complete request head — from connecting
        /// (the TLS handshake included) and between keep-alive requests.
        public var headerTimeout: Int64
        /// Seconds a request may take from its head to the end of its body.
        public var requestTimeout: Int64
        /// Seconds without a report after which a host counts as stale.
        public var staleAfter: Int64
        /// The caps on open connections, before the descriptor limit lowers them.
        public var connectionLimits: ConnectionLimits
        /// Seconds a connection may take to finish its TLS handshake, from connecting.
        public var handshakeTimeout: Int64

        public init(host: String = "127.0.0.1", port: Int = 8443, maxReportBytes: Int = 16 << 20,
                    headerTimeout: Int64 = 30, requestTimeout: Int64 = 60, staleAfter: Int64 = 900,
                    connectionLimits: ConnectionLimits = .defaults, handshakeTimeout: Int64 = 10) {
            self.host = host
            self.port = port
            self.maxReportBytes = maxReportBytes
            self.headerTimeout = headerTimeout
            self.requestTimeout = requestTimeout
            self.staleAfter = staleAfter
            self.connectionLimits = connectionLimits
            self.handshakeTimeout = handshakeTimeout
        }
    }

    /// What enrollment over the network needs: the CA that signs, and the shared secret
    /// (nil: only operators enroll hosts, with `portwarden enroll sign`).
    public struct Enrollment: Sendable {
        public var ca: CertificateAuthority
        public var secret: String?
        public var days: Int

        public init(ca: CertificateAuthority, secret: String?, days: Int = 397) {
            self.ca = ca
            self.secret = secret
            self.days = days
        }
    }

    /// The collector, ready for `runService()`; `onRunning` receives the bound port.
    /// With `policy`, each report is evaluated as it is stored.
    public static func build(settings: Settings, tls: TLSContext, database: CollectorDatabase, logger: Logger,
                             enrollment: Enrollment? = nil, metrics: CollectorMetrics = CollectorMetrics(),
                             policy: PolicyHolder? = nil,
                             onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> CollectorService
    {
        // SQLite and certificate signing block: they run on these, never on an event loop.
        var routes = Routes(pool: NIOThreadPool(numberOfThreads: 2), logger: logger)
        let ingest = IngestQueue(database: database, findings: policy?.evaluator)
        ReportRoutes(ingest: ingest, maxReportBytes: settings.maxReportBytes, metrics: metrics, logger: logger).add(to: &routes)
        let connections = Connections()
        StatusRoutes(database: database, metrics: metrics, connections: connections, staleAfter: settings.staleAfter)
            .add(to: &routes)
        if let enrollment {
            EnrollRoutes(database: database, enrollment: enrollment, metrics: metrics, logger: logger).add(to: &routes)
        }
        return CollectorService(settings: settings, tls: tls, routes: routes, ingest: ingest, connections: connections,
                                metrics: metrics, logger: logger,
                                isRevoked: { serial in database.isRevoked(serial: serial) }, onRunning: onRunning)
    }
}
