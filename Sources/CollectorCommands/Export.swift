import ArgumentParser
import CollectorStore
import Foundation
import Reports

/// `portwarden export KIND`
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Flat data for SIEMs and spreadsheets: findings, listeners, hosts or receipts.",
        discussion: """
            One stable column set per kind (docs/exports.md). findings and listeners: the \
            intervals that overlap the period (open ones have an empty closed); receipts: \
            the receipt runs extended in it; hosts: every host known, with its state now \
            (a stale host is "stale", never "compliant"). CSV is RFC 4180 (CRLF, quoted \
            fields); json is one document with "columns" and "rows"; ndjson one row object \
            per line. Times are RFC 3339 UTC.

            For cron: --output FILE is written atomically (a temporary file, synced, then \
            renamed) and nothing is printed on success unless --verbose. Exit status: 0 ok, \
            2 on any error (the reason on stderr). Reads the collector's database (from \
            --config or --state-dir) while it runs; ingest is not held up.
            """)

    @OptionGroup var state: StateOptions

    @Argument(help: ArgumentHelp("What to export: \(ExportKind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "kind"))
    var kind: ExportKind

    @Option(help: "The period: a duration back from --until (7d, 12h, 2w) or a date (2026-11-01).")
    var since: String = "7d"

    @Option(help: "The end of the period: a date (through its end) or a UTC time (default: now).")
    var until: String?

    @Option(help: "csv, json or ndjson.")
    var format: DataFormat = .csv

    @Option(help: ArgumentHelp("Write here, atomically, instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Say what was written.")
    var verbose = false

    func run() throws {
        let now = Int64(Date().timeIntervalSince1970)
        let window: TimeWindow
        do { window = try TimeWindow.parse(since: since, until: until, now: now) } catch {
            throw ValidationError(error.description)
        }
        let path = try state.databasePath()
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no collector database at \(path) (give --config or --state-dir)")
        }
        let database = try CollectorDatabase.open(path: path)
        let destination = try output.map { try ReportOutput(path: $0) } ?? ReportOutput()
        try Exporter(database: database, staleAfter: Int64(try state.file().staleAfter ?? 900))
            .export(kind, window: window, now: now, format: format, output: destination)
        try destination.commit()
        if verbose, let output {
            FileHandle.standardError.write(Data("wrote \(kind.rawValue) (\(format.rawValue)) to \(output)\n".utf8))
        }
    }
}

extension ExportKind: ExpressibleByArgument {}
extension DataFormat: ExpressibleByArgument {}
