import CollectorStore
import Logging
import NIOPosix
import OpenSSLTLS
import PortwardenModel

/// The collector: HTTP/1.1 over OpenSSL TLS in front of the SQLite history.
public enum CollectorApplication {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        public var maxReportBytes: Int
        /// Seconds a connection may go without a complete request head — from connecting
        /// (the TLS handshake included) and between keep-alive requests.
        public var headerTimeout: Int64
        /// Seconds a connection is kept between one answer and the next request head: longer
        /// than an agent's interval (60 s, up to 10% more), so each report goes on the
        /// connection the last one left open. `Keep-Alive: timeout=` tells clients.
        public var keepAliveTimeout: Int64 = 90
        /// Seconds a request may take from its head to the end of its body.
        public var requestTimeout: Int64
        /// Seconds without a report after which a host counts as stale.
        public var staleAfter: Int64
        // What a report may claim and cost (docs/wire-format.md, "Validation").
        /// Seconds a report may be dated ahead of the collector's clock.
        public var maxClockSkew: Int64 = ReportClock.defaultMaxSkew
        /// Each host's reports a minute and changed listeners an hour, asked before the queue.
        public var hostBudget = HostBudget.Limits()
        /// Reports decoded and waiting to be stored, at most; past it, 503.
        public var maxQueuedReports = 1_024
        /// When the collector's own certificates end (`server`, `ca`, `ca_old`), for /metrics.
        public var certificateEnds: [String: Int64] = [:]

        /// The caps on open connections, before the descriptor limit lowers them.
        public var connectionLimits: ConnectionLimits
        /// Seconds a connection may take to finish its TLS handshake, from connecting.
        public var handshakeTimeout: Int64

        public init(host: String = "127.0.0.1", port: Int = 8443, maxReportBytes: Int = WireLimits.snapshotBytes,
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

    /// What enrollment and renewal over the network need: the CA that signs, how long a
    /// host certificate lives, how long a request waits for an operator, and the
    /// per-address limits. The secret and tokens are in the database, looked up at each
    /// attempt: rotating them needs no restart.
    public struct Enrollment: Sendable {
        /// The fleet CA's certificate: the issuer of every host certificate.
        public var caCertificate: Certificate
        /// The CA with its key, on a collector that signs; nil on one whose signing
        /// collector holds the key (it queues what it admits in `signingQueue`).
        public var ca: CertificateAuthority?
        public var signingQueue: (any SigningQueue)?
        /// Seconds a host certificate is valid from its issue (90 days unless configured).
        public var lifetime: Int
        /// Seconds a request that needs an operator waits before it expires.
        public var requestTTL: Int64
        public var limits: EnrollmentLimits
        /// The fleet CA bundle handed to hosts with their certificates (PEM): the CA, and
        /// while it is rotated both.
        public var bundle: String

        /// A collector that signs with `ca`; with `signingQueue` (a shared database) it
        /// also signs what the collectors without the key queue there.
        public init(ca: CertificateAuthority, signingQueue: (any SigningQueue)? = nil, lifetime: Int = 90 * 86_400,
                    requestTTL: Int64 = 86_400, limits: EnrollmentLimits = .defaults, bundle: String? = nil) {
            self.caCertificate = ca.certificate
            self.ca = ca
            self.signingQueue = signingQueue
            self.lifetime = lifetime
            self.requestTTL = requestTTL
            self.limits = limits
            self.bundle = bundle ?? ((try? ca.certificate.pem()) ?? "")
        }

        /// A collector without the CA key: the signing collector signs what it queues.
        public init(signingElsewhere caCertificate: Certificate, queue: any SigningQueue, lifetime: Int = 90 * 86_400,
                    requestTTL: Int64 = 86_400, limits: EnrollmentLimits = .defaults, bundle: String) {
            self.caCertificate = caCertificate
            self.ca = nil
            self.signingQueue = queue
            self.lifetime = lifetime
            self.requestTTL = requestTTL
            self.limits = limits
            self.bundle = bundle
        }

        /// A host certificate for `request`'s key, named `name`, and the record of it;
        /// `SigningElsewhere` on a collector without the CA key.
        public func issue(_ request: CertificateRequest, name: String, at now: Int64) throws -> (IssuedCertificate, pem: String) {
            guard let ca else { throw SigningElsewhere() }
            let certificate = try ca.issue(request, commonName: name, usage: .client, lifetime: lifetime)
            return (IssuedCertificate(serial: certificate.serial, hostName: name, fingerprint: certificate.fingerprint,
                                      notAfter: certificate.notAfter, issuedAt: now, keyFingerprint: request.keyFingerprint,
                                      issuer: ca.certificate.fingerprint),
                    try certificate.pem())
        }
    }

    /// A certificate was to be issued, on a collector without the CA key: what it decided
    /// is rolled back, and the request queued for the signing collector, which decides again.
    struct SigningElsewhere: Error {}

    /// The collector, ready for `runService()`; `onRunning` receives the bound port.
    /// With `policy`, each report is evaluated as it is stored.
    public static func build(settings: Settings, tls: TLSContext, database: any HistoryStore, logger: Logger,
                             enrollment: Enrollment? = nil, metrics: CollectorMetrics = CollectorMetrics(),
                             policy: PolicyHolder? = nil,
                             onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> CollectorService
    {
        // SQLite and certificate signing block: they run on these, never on an event loop.
        var routes = Routes(pool: NIOThreadPool(numberOfThreads: 2), logger: logger)
        let clock = ReportClock(maxSkew: settings.maxClockSkew)
        let ingest = IngestQueue(database: database, findings: policy?.evaluator, clock: clock,
                                 maxReports: settings.maxQueuedReports)
        let refusals = RefusalLog(ingest: ingest, logger: logger)
        ReportRoutes(ingest: ingest, maxReportBytes: settings.maxReportBytes, clock: clock,
                     budget: HostBudget(settings.hostBudget), refusals: refusals, metrics: metrics, logger: logger,
                     signingCA: enrollment?.caCertificate.subjectKeyIdentifier,
                     caBundleDigest: enrollment.flatMap { try? Certificate.bundleDigest(Certificate.all(pem: $0.bundle)) },
                     evaluationStamp: { policy?.stamp })
            .add(to: &routes)
        let connections = Connections()
        StatusRoutes(database: database, metrics: metrics, connections: connections, ingest: ingest,
                     staleAfter: settings.staleAfter, certificateEnds: settings.certificateEnds).add(to: &routes)
        var signing: SigningLoop?
        if let enrollment {
            let desk = SigningDesk(queue: enrollment.signingQueue, logger: logger)
            let enroll = EnrollRoutes(database: database, enrollment: enrollment, desk: desk,
                                      limiter: EnrollmentLimiter(limits: enrollment.limits), policy: policy, metrics: metrics,
                                      logger: logger)
            let renew = RenewRoutes(database: database, enrollment: enrollment, desk: desk, metrics: metrics, logger: logger)
            enroll.add(to: &routes)
            renew.add(to: &routes)
            CARoutes(bundle: enrollment.bundle).add(to: &routes)
            if enrollment.ca != nil, let queue = enrollment.signingQueue {
                signing = SigningLoop(queue: queue, enroll: enroll, renew: renew, logger: logger)
            }
        }
        var certificates = CertificateCheck(database: database, pool: routes.pool, logger: logger)
        if let enrollment {
            certificates.retiring = Set(((try? Certificate.all(pem: enrollment.bundle)) ?? [])
                .filter { $0.fingerprint != enrollment.caCertificate.fingerprint }.compactMap(\.subjectKeyIdentifier))
        }
        return CollectorService(settings: settings, tls: tls, routes: routes, ingest: ingest, connections: connections,
                                metrics: metrics, refusals: refusals, logger: logger,
                                certificates: certificates, signing: signing,
                                onRunning: onRunning)
    }
}
