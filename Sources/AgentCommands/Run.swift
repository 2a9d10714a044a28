import AgentReporting
import ArgumentParser
import Glibc
import Inventory
import Logging
import ProcFS

/// `portwarden-agent run`: scan, spool, deliver — every interval, or once for cron.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scan this host and report to the collector, every interval or once.",
        discussion: """
            Each scan gets the next sequence number and goes to the spool first; then every \
            spooled snapshot is delivered, oldest first, and removed once the collector has \
            acknowledged it. When the collector is unreachable or answers 5xx the snapshots \
            wait in the spool (bounded by --spool-max-count and --spool-max-bytes; when full \
            the oldest is dropped, and the next report says how many). With --once the exit \
            status is 0 when the spool is empty afterwards and 75 (EX_TEMPFAIL) when \
            snapshots are still waiting. The host must be enrolled first \
            (portwarden-agent enroll).
            """)

    @OptionGroup var collectorOptions: CollectorOptions

    @Option(help: "Seconds between scans (up to 10% more at random, so a fleet does not report in step).")
    var interval: Int = 60

    @Flag(help: "Scan and deliver once, then exit (for cron).")
    var once = false

    @Option(help: "Most snapshots the spool keeps.")
    var spoolMaxCount: Int = 1_000

    @Option(help: "Most bytes the spool keeps.")
    var spoolMaxBytes: Int = 100 << 20

    @Option(help: ArgumentHelp("Where procfs is mounted.", valueName: "path"))
    var procRoot: String = "/proc"

    func validate() throws {
        guard interval >= 1 else { throw ValidationError("--interval must be at least 1 second") }
        guard spoolMaxCount >= 1, spoolMaxBytes >= 1 << 10 else {
            throw ValidationError("the spool needs room for one snapshot (--spool-max-count ≥ 1, --spool-max-bytes ≥ 1024)")
        }
    }

    func run() throws {
        let logger = Logger(label: "portwarden.agent.run")
        let state = collectorOptions.state
        try state.prepare()
        let reporter = Reporter(state: state, delivery: Delivery(
            spool: Spool(directory: state.spoolDirectory, maxCount: spoolMaxCount, maxBytes: spoolMaxBytes),
            connection: try collectorOptions.connection(context: state.clientContext())))
        while true {
            let result = try reporter.report(try ListenerScan(procfs: ProcFS(root: procRoot)).run())
            for rejection in result.rejected { logger.error("the collector refused \(rejection)") }
            if let reason = result.stoppedBy {
                logger.warning("\(result.remaining) snapshots wait in the spool: \(reason)")
            } else {
                logger.info("delivered \(result.delivered) snapshots")
            }
            if once { throw ExitCode(result.remaining == 0 ? 0 : 75) }
            sleep(UInt32(interval + Int.random(in: 0...max(1, interval / 10))))
        }
    }
}
