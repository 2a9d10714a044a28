import AgentReporting
import ArgumentParser
import CommandConventions
import CollectorClient
import Glibc
import HostScan
import EventLog
import Logging
import PortwardenModel
import ProcFS

/// `portwarden-agent run`: scan, spool, deliver — every interval, or once for cron.
struct Run: ParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scan this host and report to the collector, every interval or once.",
        discussion: """
            Each scan gets the next sequence number and goes to the spool first; then every \
            spooled snapshot is delivered, oldest first, and removed once the collector has \
            acknowledged it. A snapshot that says what the last one the collector \
            acknowledged said (the same state digest: listeners, owners, labels, \
            completeness) goes as a small unchanged report; when the collector does not \
            hold that state it answers 409 and the snapshot follows in full on the same \
            connection. Each report goes on the connection the last one left open while the \
            collector keeps it (its keepalive_timeout, 90s by default), else on a new one \
            resuming the last TLS session. With several collectors (--collector repeated, or a list in \
            collector:) the agent keeps to the one that answered last, and a snapshot it \
            cannot deliver there (no answer, a certificate that does not verify, 429, 5xx) \
            goes at once to the next in this host's own order (event=collector_failover). \
            When every collector is unreachable or answers 5xx the snapshots wait in the \
            spool (bounded by --spool-max-count and --spool-max-bytes; when full the oldest \
            is dropped, and the next report says how many). A snapshot over the collector's \
            limit (413) is sent again with owners' details trimmed, saying so in its \
            warnings. 429 or 503 with Retry-After pauses delivery to that collector that \
            long (at most an hour), across runs. A snapshot whose delivery failed 3 times \
            while the collector was reachable is skipped once: if the next is taken, it is \
            set aside. With \
            --once the exit status is 0 when the spool is empty afterwards, 75 (EX_TEMPFAIL) \
            when snapshots are still waiting (the log says until when, when paused), and 1 \
            when one was set aside: the collector refused it for good (4xx), the spool file \
            was not a snapshot (corrupt), or it kept failing; it is kept in the spool's \
            rejected/ directory (the newest 20) and the rest are delivered. \
            Snapshots are reported under the name in this host's certificate. The host must be enrolled first \
            (portwarden-agent enroll). Before each report the certificate is renewed when a third \
            of its lifetime is left (as `portwarden-agent renew`); a renewal that fails is logged \
            and tried again next cycle, and reporting goes on with the current certificate.
            """)

    @OptionGroup var collectorOptions: CollectorOptions

    @Option(help: ArgumentHelp("Time between scans: 90s, 15m… (default 60s; up to 10% more at random, so a fleet does not report in step).",
                               valueName: "duration"), transform: Seconds.argument)
    var interval: Seconds?

    @Flag(help: "Scan and deliver once, then exit (for cron).")
    var once = false

    @Option(help: "Most snapshots the spool keeps (default 1000).")
    var spoolMaxCount: Int?

    @Option(help: "Most bytes the spool keeps (default 100 MiB).")
    var spoolMaxBytes: Int?

    @Option(help: ArgumentHelp("Where procfs is mounted (default /proc).", valueName: "path"))
    var procRoot: String?

    @OptionGroup var redactionOptions: RedactionOptions

    @OptionGroup var logOptions: LogOptions

    func validate() throws {
        typealias Limits = AgentConfig.Limits
        for (flag, value, range) in [("--spool-max-count", spoolMaxCount, Limits.spoolMaxCount),
                                     ("--spool-max-bytes", spoolMaxBytes, Limits.spoolMaxBytes)] {
            if let value, !range.contains(value) {
                throw ValidationError("\(flag) must be from \(range.lowerBound) to \(range.upperBound)")
            }
        }
        if let interval, !Limits.interval.contains(interval.value) {
            throw ValidationError("--interval must be from \(Seconds(Limits.interval.lowerBound)) to \(Seconds(Limits.interval.upperBound))")
        }
    }

    func run() throws {
        let logger = Logger(label: "portwarden.agent.run")
        let file = try collectorOptions.file()
        let state = collectorOptions.state(file)
        try state.prepare()
        let interval = (interval ?? file.interval)?.value ?? 60
        let procRoot = procRoot ?? file.procRoot ?? "/proc"
        let redaction = try redactionOptions.redaction(file)
        let spool = Spool(directory: state.spoolDirectory, maxCount: spoolMaxCount ?? file.spoolMaxCount ?? 1_000,
                          maxBytes: spoolMaxBytes ?? file.spoolMaxBytes ?? 100 << 20)
        // Made again after a renewal: the new certificate, and no session resumed from the
        // old one — but the same collectors, keeping to the one in use.
        var presenting: String?
        var collectors: CollectorList?
        func makeReporter() throws -> Reporter {
            presenting = try? Renewal(state: state).certificate().serial
            let context = try state.clientContext(), name = try state.enrolledName()
            let list = try collectors?.with(context: context)
                ?? collectorOptions.collectors(file, context: context, name: name, state: state)
            collectors = list
            return Reporter(state: state, delivery: Delivery(spool: spool, collectors: list), hostName: name)
        }
        var reporter = try makeReporter()
        while true {
            // Renewed or enrolled again by another command (`renew --force`, `enroll --force`)
            // while this one runs: the collector refuses the old certificate once the new
            // one is used, so take the one on disk.
            if let onDisk = try? Renewal(state: state).certificate().serial, onDisk != presenting {
                logger.notice("host certificate replaced on disk: reporting with it",
                              metadata: ["event": "certificate_reloaded", "serial": "\(onDisk)"])
                reporter = try makeReporter()
            }
            if renew(state, through: reporter.delivery.connection, asked: false, logger: logger) { reporter = try makeReporter() }
            var snapshot = try ListenerScan(procfs: ProcFS(root: procRoot), redaction: redaction).run()
            if !file.labels.isEmpty { snapshot.host.labels = file.labels }
            if let trimmed = try reporter.spool(snapshot) { logger.warning("spooled trimmed: \(trimmed)", metadata: ["event": "spooled_trimmed"]) }
            let result = reporter.delivery.run()
            for failover in result.failovers { failover.log(to: logger) }
            // The collector trusts another CA bundle (a rotation began or ended): first, so a
            // renewal it asks for below is checked against the bundle it trusts now.
            if let digest = result.caDigest, updateCA(state, digest, through: reporter.delivery.connection, logger: logger) {
                reporter = try makeReporter()
            }
            // The collector's CA is being rotated: onto the new one now, not at day 60.
            if result.renewAsked, renew(state, through: reporter.delivery.connection, asked: true, logger: logger) {
                reporter = try makeReporter()
            }
            for rejection in result.rejected { logger.error("set aside \(rejection)", metadata: ["event": "set_aside"]) }
            for trimmed in result.trimmed { logger.warning("sent trimmed after a 413: \(trimmed)", metadata: ["event": "sent_trimmed"]) }
            if let reason = result.stoppedBy {
                let retry = result.retryAt.map { "; no delivery before \(Timestamp.rfc3339(Int64($0))) (Retry-After)" } ?? ""
                logger.warning("\(result.remaining) snapshots wait in the spool: \(reason)\(retry)", metadata: [
                    "event": "delivery_waiting", "reason": "\(reason)", "waiting": "\(result.remaining)"])
            } else {
                // How the cycle's reports reached the collector, the dearest way: what they cost.
                let dearest = reporter.delivery.connection.kept?.dearestCarrier()
                let carrier = result.delivered > 0 ? dearest : nil
                let on = carrier.map { $0 == .kept ? ", on \($0)" : ", at the dearest on \($0)" } ?? ""
                logger.info("delivered \(result.delivered) snapshots (\(result.unchanged) as unchanged reports)\(on)", metadata: [
                    "event": "delivered", "delivered": "\(result.delivered)", "unchanged": "\(result.unchanged)",
                    "connection": "\(carrier?.rawValue ?? "none")"])
            }
            // A snapshot set aside is a fault to look at (exit 1); snapshots merely waiting are not (75).
            if once { throw ExitCode(!result.rejected.isEmpty ? 1 : result.remaining == 0 ? 0 : 75) }
            // Up to 10% more, in fractions of a second: whole seconds made it 20% at 5 s.
            let pause = Double(interval) * Double.random(in: 1...1.1)
            sleep(UInt32(pause))
            usleep(UInt32((pause - pause.rounded(.down)) * 1_000_000))
        }
    }

    /// Renews the certificate when it is due, or the collector `asked`; whether it did. A
    /// failure is logged and left for the next cycle: the current certificate still
    /// reports until it expires.
    private func renew(_ state: AgentState, through connection: CollectorConnection, asked: Bool, logger: Logger) -> Bool {
        let renewal = Renewal(state: state)
        guard let current = try? renewal.certificate(), asked || Int64(time(nil)) >= Renewal.due(current) else { return false }
        if let expired = Renewal.expiry(current) {
            logger.error("\(expired)", metadata: ["event": "certificate_expired", "until": "\(Timestamp.rfc3339(current.notAfter))"])
            return false
        }
        do {
            let renewed = try renewal.renew(through: connection)
            logger.notice("certificate renewed", metadata: [
                "event": "renewed", "reason": "\(asked ? "the collector asked (CA rotation)" : "a third of its lifetime left")",
                "serial": "\(renewed.serial)", "renews": "\(current.serial)",
                "until": "\(Timestamp.rfc3339(renewed.notAfter))"])
            return true
        } catch let refused as TrustRefused {
            logger.error("renewed certificate refused; the current certificate and CA bundle stay, trying again next cycle",
                         metadata: ["event": "renewal_refused", "reason": "\(refused)", "until": "\(Timestamp.rfc3339(current.notAfter))"])
            return false
        } catch {
            logger.warning("certificate renewal failed; trying again next cycle", metadata: [
                "event": "renewal_failed", "reason": "\(error)", "until": "\(Timestamp.rfc3339(current.notAfter))"])
            return false
        }
    }

    /// Installs the CA bundle the collector trusts now when ca.pem is not the one whose
    /// `digest` it stated; whether it did. A refusal or failure is logged: ca.pem stays.
    private func updateCA(_ state: AgentState, _ digest: String, through connection: CollectorConnection, logger: Logger) -> Bool {
        let update = CAUpdate(state: state)
        guard update.isNeeded(digest: digest) else { return false }
        do {
            let bundle = try update.update(through: connection)
            logger.notice("CA bundle updated to the collector's", metadata: [
                "event": "ca_updated", "cas": "\(bundle.compactMap(\.commonName).joined(separator: ", "))"])
            return true
        } catch let refused as TrustRefused {
            logger.error("the collector's CA bundle refused; ca.pem stays", metadata: [
                "event": "ca_update_refused", "reason": "\(refused)"])
        } catch {
            logger.warning("cannot fetch the collector's CA bundle; ca.pem stays, trying again next cycle", metadata: [
                "event": "ca_update_failed", "reason": "\(error)"])
        }
        return false
    }
}
