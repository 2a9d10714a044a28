import ArgumentParser
import CollectorStore
import Findings
import Foundation
import Policy
import Reports

/// `portwarden report …`
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Trend reports over the stored history, and one host's report.",
        discussion: """
            Made for cron as much as for people: --output FILE is written atomically and \
            nothing is printed on success unless --verbose; exit 0 ok, 1 when --fail-on \
            SEVERITY is given and open findings at or above it exist, 2 on any other error (the \
            reason on stderr), 3 when the database cannot be used (none there, or one an \
            older release wrote that `serve` has not yet upgraded). Reads the collector's database (from --config or \
            --state-dir) while it runs; ingest is not held up. Rule texts and tags come from \
            the policy versions `serve` recorded there, not from the working directory. See \
            Collector/cron.d/portwarden-reports.
            """,
        subcommands: [Trend.self, HostCommand.self])
}

/// Where a report or an export goes: standard output, or a file replaced atomically.
struct OutputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Write here, atomically, instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Say what was written.")
    var verbose = false

    /// Hands `body` the destination, makes the file visible once all is written, and
    /// says so with --verbose.
    func write(_ what: String, _ body: (ReportOutput) throws -> Void) throws {
        let destination = try output.map { try ReportOutput(path: $0) } ?? ReportOutput()
        try body(destination)
        try destination.commit()
        if verbose, let output { printError("wrote \(what) to \(output)") }
    }
}

/// The period a report or export covers, from its --since and --until.
func period(since: String, until: String?, now: Int64) throws -> TimeWindow {
    do { return try TimeWindow.parse(since: since, until: until, now: now) } catch { throw ValidationError(error.description) }
}

/// What every report command shares: its format, where it goes, when to fail.
struct ReportOutputOptions: ParsableArguments {
    @Option(help: "table (fits 100 columns), json, csv, markdown or html (one self-contained file).")
    var format: ReportFormat = .table

    @OptionGroup var destination: OutputOptions

    @Option(help: ArgumentHelp("Exit 1 when open, unwaived findings at or above this severity exist (info, low, medium, high, critical).",
                               valueName: "severity"))
    var failOn: Severity?

    /// Writes the rendered report where it was asked to go.
    func emit(_ report: some RenderableReport, what: String) throws {
        try destination.write("\(what) (\(format.rawValue))") { $0.write(report.render(format)) }
    }
}

extension ReportFormat: ExpressibleByArgument {}

extension Severity: ExpressibleByArgument {}

/// The history a command reads or edits: the collector's, as this release wrote it.
func openHistory(_ state: StateOptions, _ file: CollectorConfig? = nil) throws -> any HistoryStore {
    try HistoryStores.existing(state.databasePath(file))
}
