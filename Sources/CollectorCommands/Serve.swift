import ArgumentParser
import CommandConventions
import CollectorServer
import CollectorStore
import ConfigFile
import EventLog
import Foundation
import Logging
import OpenSSLTLS
import PortwardenModel

/// `portwarden serve`
struct Serve: AsyncParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accept agents' reports over mutual TLS and keep their history.",
        discussion: """
            HTTP/1.1 over TLS (the system OpenSSL, TLS 1.2 or later): POST /v1/reports and \
            /v1/reports/unchanged from enrolled hosts (on connections kept between reports: \
            --keepalive-timeout), POST /v1/renew and GET /v1/ca for them, POST /v1/enroll (with the secret from `portwarden enroll \
            secret` or a token from `portwarden enroll token create`, looked up at each \
            attempt: replacing them needs no restart), GET /metrics, GET /healthz. A \
            host's identity is the name in its client certificate; a report naming another host is refused (403). History goes \
            to portwarden.sqlite in the state directory (WAL), or to PostgreSQL with --database \
            postgres://… (several collectors may share it, the CA key on one of them: --no-signing on the \
            others; docs/OPERATIONS.md, "PostgreSQL"). SIGTERM or SIGINT stops \
            accepting and finishes the reports in flight. Every setting can come from \
            --config (see Collector/collector.yaml); a flag wins over the file. Without a \
            policy that loads it does not start (exit 2) unless --no-policy; each policy \
            taking effect is recorded in the database, for reports.
            """)

    @OptionGroup var state: StateOptions

    @Option(help: ArgumentHelp("Address and port to listen on (default 0.0.0.0:8443).", valueName: "host:port"))
    var listen: String?

    @Option(help: "Largest report accepted, in bytes, after gzip is undone (default \(WireLimits.snapshotBytes), the wire format's bound).")
    var maxReportBytes: Int?

    @Option(help: ArgumentHelp("Time without a report after which a host counts as stale: 90s, 15m… (default 15m).",
                               valueName: "duration"), transform: Seconds.argument)
    var staleAfter: Seconds?

    @Option(help: ArgumentHelp("Time a connection may take to deliver a request head, handshake included (default 30s).",
                               valueName: "duration"), transform: Seconds.argument)
    var headerTimeout: Seconds?

    @Option(help: ArgumentHelp("Time a host's connection is kept open between an answer and its next request, so each report goes on the connection the last one left (default 90s, from 1s to 1h). Agents stop using a connection 5s (at most a tenth of this) before it ends, so this less that margin must exceed the agents' interval × 1.1: 90s holds a 60s interval, 12s a 10s one. Idle connections give way to new ones at --max-connections.",
                               valueName: "duration"), transform: Seconds.argument)
    var keepaliveTimeout: Seconds?

    @Option(help: ArgumentHelp("Time a request may take from its head to the end of its body (default 60s).",
                               valueName: "duration"), transform: Seconds.argument)
    var requestTimeout: Seconds?

    @Option(help: ArgumentHelp("Time a connection may take to finish its TLS handshake (default 10s).", valueName: "duration"), transform: Seconds.argument)
    var handshakeTimeout: Seconds?

    @Option(help: "Connections open at once, at most (default 10000; lowered to fit the descriptor limit). At the cap a new connection takes the place of one without a fleet certificate, or of a host's idle one (README, \"Strangers give way\"); hosts' requests under way are never cut.")
    var maxConnections: Int?

    @Option(help: "Connections open at once from one address (an IPv6 /64), at most (default 1000).")
    var maxConnectionsPerAddress: Int?

    @Option(help: ArgumentHelp("How long the receipt log keeps a run of reports: 400d, 8w… (default 400d); each host's newest run is always kept.",
                               valueName: "duration"), transform: Seconds.argument)
    var receiptRetention: Seconds?

    /// The flag before durations were one syntax, in days: cron lines and units still pass it.
    @Option(help: .hidden)
    var receiptRetentionDays: Int?

    @Option(help: ArgumentHelp("How far ahead of this clock a report may be dated: 90s, 15m… (default 5m); past it, refused as clock skew.",
                               valueName: "duration"), transform: Seconds.argument)
    var maxClockSkew: Seconds?

    @Option(help: "Reports one host may send a minute, at most (default \(HostBudget.Limits.defaultReportsPerMinute)); past it, 429.")
    var hostReportsPerMinute: Int?

    @Option(help: "Report bytes (decoded) one host may send a minute, at most (default \(HostBudget.Limits.defaultReportBytesPerMinute)); past it, 429.")
    var hostReportBytesPerMinute: Int?

    @Option(help: "Listeners one host's reports may open and close an hour, at most (default \(HostBudget.Limits.defaultChangedListenersPerHour)); past it, 429.")
    var hostChangedListenersPerHour: Int?

    @Option(help: ArgumentHelp("How long a host certificate is valid: 90d, 12h… (default 90d); agents renew when a third is left.",
                               valueName: "duration"), transform: Seconds.argument)
    var certificateLifetime: Seconds?

    @Option(help: "Reports waiting to be stored, at most (default 1024); past it, 503 with Retry-After.")
    var maxQueuedReports: Int?

    @Option(help: ArgumentHelp("""
        The policy directory each report is evaluated with (default: the config's `policies`, else /etc/portwarden/policies if it exists; the policy commands' default too). Reloaded on SIGHUP and when its files change; a policy with errors is refused and the one in force stays. Without one, serve does not start unless --no-policy.
        """, valueName: "dir"))
    var policies: String?

    @Flag(help: "Serve with no policy: reports are stored but not evaluated, so every host looks compliant. Only when meant.")
    var noPolicy = false

    @Flag(help: """
        Serve without the CA key (config: signing: false): enrollments and renewals are queued in the shared PostgreSQL \
        database for the collector that has ca.key to sign. The state directory needs ca.pem, server.key and server.pem only.
        """)
    var noSigning = false

    @Flag(help: """
        Refuse a policy whose tests (tests/*.yaml) fail or cannot be read. Without it such a policy loads (tests change \
        no finding) and the failures are logged (event=policy_tests_failed) and counted in /metrics.
        """)
    var strictPolicyTests = false

    @OptionGroup var logOptions: LogOptions

    func validate() throws {
        if noPolicy, let policies {
            throw ValidationError("--no-policy and --policies \(policies) contradict each other: give one")
        }
        if let listen, HostPort(listen, allowingZero: true) == nil {
            throw ValidationError("--listen \"\(listen)\": expected host:port, e.g. 0.0.0.0:8443")
        }
        typealias Limits = CollectorConfig.Limits
        for (flag, value, range) in [("--max-report-bytes", maxReportBytes, Limits.maxReportBytes),
                                     ("--max-connections", maxConnections, Limits.connections),
                                     ("--max-connections-per-address", maxConnectionsPerAddress, Limits.connections),
                                     ("--receipt-retention-days", receiptRetentionDays, 1...36_500),
                                     ("--host-reports-per-minute", hostReportsPerMinute, Limits.hostReportsPerMinute),
                                     ("--host-report-bytes-per-minute", hostReportBytesPerMinute, Limits.hostReportBytesPerMinute),
                                     ("--host-changed-listeners-per-hour", hostChangedListenersPerHour,
                                      Limits.hostChangedListenersPerHour),
                                     ("--max-queued-reports", maxQueuedReports, Limits.maxQueuedReports)] {
            if let value, !range.contains(value) {
                throw ValidationError("\(flag) must be from \(range.lowerBound) to \(range.upperBound); got \(value)")
            }
        }
        if receiptRetentionDays != nil, receiptRetention != nil {
            throw ValidationError("--receipt-retention-days and --receipt-retention both given: keep --receipt-retention")
        }
        for (flag, value, range) in [("--stale-after", staleAfter, Limits.staleAfter),
                                     ("--receipt-retention", receiptRetention, Limits.receiptRetention),
                                     ("--header-timeout", headerTimeout, Limits.timeout),
                                     ("--request-timeout", requestTimeout, Limits.timeout),
                                     ("--keepalive-timeout", keepaliveTimeout, Limits.timeout),
                                     ("--handshake-timeout", handshakeTimeout, Limits.timeout),
                                     ("--max-clock-skew", maxClockSkew, Limits.maxClockSkew),
                                     ("--certificate-lifetime", certificateLifetime, EnrollmentSettings.certificateLifetimeRange)] {
            if let value, !range.contains(value.value) {
                throw ValidationError("\(flag) must be from \(Seconds(range.lowerBound)) to \(Seconds(range.upperBound)); got \(value)")
            }
        }
    }

    /// Enrollment and renewal as this collector does them: signing with `authority`
    /// (and, sharing a database, for the collectors without the key), or queueing for the
    /// collector that signs.
    private func enrollment(_ file: CollectorConfig, authority: CertificateAuthority?, caCertificate: Certificate,
                            queue: (any SigningQueue)?, _ files: CollectorFiles) throws -> CollectorApplication.Enrollment {
        let lifetime = file.enrollment.certificateLifetimeSeconds(certificateLifetime)
        if let authority {
            return .init(ca: authority, signingQueue: queue, lifetime: lifetime, requestTTL: file.enrollment.requestTTLSeconds,
                         limits: file.enrollment.limits, bundle: try files.bundle())
        }
        guard let queue else { throw ValidationError("a collector that does not sign needs a PostgreSQL database") }
        return .init(signingElsewhere: caCertificate, queue: queue, lifetime: lifetime, requestTTL: file.enrollment.requestTTLSeconds,
                     limits: file.enrollment.limits, bundle: try files.bundle())
    }

    func run() async throws {
        let logger = Logger(label: "portwarden.serve")
        Descriptors.raiseLimit()
        let file = try state.file()
        let policyDirectory = try noPolicy ? nil : Self.policyDirectory(flag: policies, file: file)
        // Checked by validate() or when the file was read.
        let address = HostPort(listen ?? file.listen ?? "0.0.0.0:8443", allowingZero: true)!
        let files = try state.files(file)
        // The keys before the database: a state directory without them is not made a
        // collector's by creating its database first.
        let tls = try files.serverContext(clientCertificates: .optional)
        let signs = !noSigning && file.signing != false
        let authority = signs ? try files.authority() : nil
        let caCertificate = try authority?.certificate ?? files.ca()
        let path = try state.databasePath(file)
        if !signs {
            guard PostgresTarget.isPostgres(path) else {
                throw ValidationError("""
                    --no-signing (signing: false) needs the PostgreSQL database of the collector that signs (--database \
                    postgres://…): a collector without the CA key queues certificates there for it; with SQLite, this \
                    collector is the only one and must sign (ca.key in \(files.directory))
                    """)
            }
            if access(files.caKey, F_OK) == 0 {
                logger.warning("\(files.caKey) is here although this collector does not sign (--no-signing): move it off this machine",
                               metadata: ["event": "ca_key_unused"])
            }
        }
        let shown = PostgresTarget.redacted(path)
        if shown != path {
            logger.warning("""
                the database's connection string carries a password (shown as ***): keep it in ~/.pgpass, or the file \
                PGPASSFILE names, readable by the collector's user alone, and leave it out of the string
                """, metadata: ["event": "database_password_in_string"])
        }
        // PostgreSQL's schema is migrated here too, as SQLite's is: under an advisory lock,
        // so collectors starting together migrate once, and `db migrate` is for doing it
        // beforehand (a rolling upgrade), not a step a first start must remember.
        let history = try HistoryStores.open(path) { applied in
            logger.notice("database upgraded", metadata: [
                "event": "database_upgraded", "path": "\(shown)", "migrations": "\(applied.joined(separator: ", "))"])
        }
        let queue = history as? any SigningQueue
        do {
            if try files.importLegacySecret(into: history, at: Int64(Date().timeIntervalSince1970)) {
                logger.notice("enroll.secret moved into the database as a digest and removed: hosts holding it still enroll",
                              metadata: ["event": "secret_imported"])
            }
        } catch {
            logger.error("the clear-text enrollment secret of an older release is still there: \(error); remove it",
                         metadata: ["event": "secret_import_failed", "reason": "\(error)"])
        }
        var settings = CollectorApplication.Settings(
            host: address.host, port: address.port,
            maxReportBytes: maxReportBytes ?? file.maxReportBytes ?? WireLimits.snapshotBytes,
            headerTimeout: Int64((headerTimeout ?? file.headerTimeout)?.value ?? 30),
            requestTimeout: Int64((requestTimeout ?? file.requestTimeout)?.value ?? 60),
            staleAfter: staleAfter.map { Int64($0.value) } ?? file.staleAfterSeconds,
            connectionLimits: ConnectionLimits(
                total: maxConnections ?? file.maxConnections ?? ConnectionLimits.defaults.total,
                perAddress: maxConnectionsPerAddress ?? file.maxConnectionsPerAddress ?? ConnectionLimits.defaults.perAddress),
            handshakeTimeout: Int64((handshakeTimeout ?? file.handshakeTimeout)?.value ?? 10))
        if let skew = maxClockSkew ?? file.maxClockSkew { settings.maxClockSkew = Int64(skew.value) }
        if let idle = keepaliveTimeout ?? file.keepaliveTimeout { settings.keepAliveTimeout = Int64(idle.value) }
        if let limit = hostReportsPerMinute ?? file.hostReportsPerMinute { settings.hostBudget.reportsPerMinute = limit }
        if let limit = hostReportBytesPerMinute ?? file.hostReportBytesPerMinute { settings.hostBudget.reportBytesPerMinute = limit }
        if let limit = hostChangedListenersPerHour ?? file.hostChangedListenersPerHour {
            settings.hostBudget.changedListenersPerHour = limit
        }
        if let limit = maxQueuedReports ?? file.maxQueuedReports { settings.maxQueuedReports = limit }
        settings.certificateEnds = ["server": try files.server().notAfter, "ca": caCertificate.notAfter]
        // A signing collector's old CA must still be whole (its key signs the server certificate).
        if let old = try signs ? files.oldAuthority()?.certificate : files.oldCA() { settings.certificateEnds["ca_old"] = old.notAfter }
        // Certificates are verified whenever offered; every route but enrollment refuses
        // a client without one.
        let metrics = CollectorMetrics()
        let policy = policyDirectory.map {
            PolicyHolder(directory: $0, metrics: metrics, logger: logger, assignedTags: { (try? history.assignedTags()) ?? [] },
                         history: history, strictTests: strictPolicyTests)
        }
        if let policy {
            // Files refused at start leave nothing in force: serving on would find nothing.
            guard policy.reload() else {
                throw ValidationError("the policy in \(policy.directory) was refused (the log above says why; `portwarden policy "
                                      + "check --policies \(policy.directory)` shows every error in its files): fix it, "
                                      + "or pass --no-policy to serve without one")
            }
        } else {
            // Recorded, so reports over this stretch say nothing was evaluated in it.
            try history.recordPolicy(nil as PolicyVersion?, at: Int64(Date().timeIntervalSince1970))
            logger.critical("""
                serving with --no-policy: reports are stored but not evaluated, so every host will look compliant \
                and `report --fail-on` will find nothing until serve runs with --policies DIR
                """, metadata: ["event": "no_policy"])
        }
        let app = CollectorApplication.build(
            settings: settings, tls: tls, database: history,
            logger: logger, enrollment: try enrollment(file, authority: authority, caCertificate: caCertificate, queue: queue, files),
            metrics: metrics, policy: policy,
            onRunning: { port in
                logger.info("listening on \(address.host):\(port)", metadata: ["event": "listening", "address": "\(address.host):\(port)"])
            })
        let watching = Task {
            if let policy { await PolicyWatcher(holder: policy, database: history, logger: logger).run() }
        }
        defer { watching.cancel() }
        // Operators' commands run in their own processes: their actions are logged here.
        let auditing = Task { await AuditFeed(database: history, logger: logger).run() }
        defer { auditing.cancel() }
        for deprecation in file.deprecations { logger.warning("\(deprecation)", metadata: ["event": "config_deprecated"]) }
        if let days = receiptRetentionDays {
            logger.warning("--receipt-retention-days is deprecated: pass --receipt-retention \(days)d instead",
                           metadata: ["event": "flag_deprecated"])
        }
        let retention = Int64((receiptRetention ?? receiptRetentionDays.map { Seconds($0 * 86_400) } ?? file.receiptRetention)?.value
                              ?? CollectorConfig.defaultReceiptRetention)
        let pruning = Task {
            while !Task.isCancelled {
                // Collectors sharing a PostgreSQL database prune one at a time: the others skip the round.
                if history.holdsUpkeep() {
                    do {
                        let pruned = try history.pruneReceipts(receivedBefore: Int64(Date().timeIntervalSince1970) - retention)
                        if pruned > 0 {
                            logger.info("receipt log: \(pruned) runs older than the retention removed",
                                        metadata: ["event": "receipts_pruned", "runs": "\(pruned)"])
                        }
                    } catch {
                        logger.error("receipt log pruning failed (tried again in an hour): \(error)",
                                     metadata: ["event": "receipts_prune_failed", "reason": "\(error)"])
                    }
                }
                try? await Task.sleep(for: .seconds(3_600))
            }
        }
        defer { pruning.cancel() }
        try await app.runService(stoppingOn: [SIGTERM, SIGINT])
        // A clean stop leaves the database whole in portwarden.sqlite: a backup that copies
        // that file alone (as an upgrade's first step) holds everything.
        do { try history.settle() } catch {
            logger.error("""
                could not write the log of recent changes into the database file (it stays in portwarden.sqlite-wal: \
                back up that file with the database): \(error)
                """, metadata: ["event": "database_settle_failed", "reason": "\(error)"])
        }
    }

    /// --policies, else the policy commands' default (`PolicyOptions.defaultDirectory`). A
    /// directory named and missing is a typo; none at all is refused too: serving on would
    /// raise no finding, every host compliant. --no-policy says that is meant.
    static func policyDirectory(flag: String?, file: CollectorConfig) throws -> String {
        guard let named = flag ?? PolicyOptions.defaultDirectory(file) else {
            throw ValidationError("no policy: every host would look compliant. Pass --policies DIR (Policies/ in the repository "
                                  + "is the default set), set `policies:` in the config, or pass --no-policy to serve without one")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: named, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("the policy directory \(named) (\(flag != nil ? "--policies" : "policies: in the config")) "
                                  + "does not exist: give the directory holding the policy files (Policies/ in the repository "
                                  + "is the default set), or --no-policy to serve without one")
        }
        return named
    }
}
