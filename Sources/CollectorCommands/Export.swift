import ArgumentParser
import CollectorStore
import Foundation
import Reports

/// `portwarden export KIND`
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Flat data for SIEMs and spreadsheets: findings, listeners, hosts or receipts.",
        discussion: """
            Every column, its type and the schema version: docs/exports.md in \
            portwarden's source. findings and listeners: the \
            intervals that overlap the period (open ones have an empty closed); receipts: \
            the receipt runs extended in it; hosts: every host known, with its state now \
            (a stale host is "stale", never "compliant"). Each finding has a stable \
            finding_id. CSV is RFC 4180 (CRLF, quoted fields; owners as owner_* columns, \
            one line per owner); json is one document with "schema", "columns" and "rows" \
            (owners as an array of objects); ndjson one row object per line. Times are \
            RFC 3339 UTC.

            For cron: --output FILE is written atomically (a temporary file, synced, then \
            renamed) and nothing is printed on success unless --verbose. Exit status: 0 ok; \
            2 a usage or input error; 3 the database cannot be used or the disk is full; 75 the database \
            was busy, run it again later (the reason on stderr). Reads the collector's database (from \
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

    @OptionGroup var out: OutputOptions

    func run() throws {
        let now = Int64(Date().timeIntervalSince1970)
        let window = try period(since: since, until: until, now: now)
        let exporter = Exporter(database: try openHistory(state), staleAfter: try state.file().staleAfterSeconds)
        try out.write("\(kind.rawValue) (\(format.rawValue))") {
            try exporter.export(kind, window: window, now: now, format: format, output: $0)
        }
    }
}

extension ExportKind: ExpressibleByArgument {}
extension DataFormat: ExpressibleByArgument {}
