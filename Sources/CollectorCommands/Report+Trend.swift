import ArgumentParser
import CollectorStore
import Findings
import Foundation
import Policy
import Reports

extension Report {
    /// `portwarden report trend`
    struct Trend: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Is the fleet getting better or worse, and who owns what is left?",
            discussion: """
                Per day (UTC, or --tz): hosts reporting, hosts with unexpected legacy-port \
                exposure (an open, unwaived finding at the day's end), open, new, resolved and \
                waived findings; time to resolve (median, p90); the findings still open with \
                their age, host, port, owning process and the rule's why; the top hosts and \
                processes; coverage — hosts reporting vs stale (a stale host is unknown, never \
                compliant). --by breaks the exposure down by rule, port, tag or severity. \
                --policy DIR computes it all under another policy, replayed over the same \
                listener history. Formats: table, json (docs/reports.md), csv (one record per \
                day), markdown, html (one self-contained file with an SVG chart).
                """)

        @OptionGroup var state: StateOptions
        @OptionGroup var out: ReportOutputOptions

        @Option(help: "The period: a duration back from --until (30d, 12h, 2w) or a date (2026-11-01).")
        var since: String = "30d"

        @Option(help: "The end of the period: a date (through its end) or a UTC time (default: now).")
        var until: String?

        @Option(help: "Break the daily exposure down by rule, port, tag or severity.")
        var by: TrendReport.Grouping?

        @Option(help: ArgumentHelp("Replay the history under this policy directory instead of the stored findings.", valueName: "dir"))
        var policy: String?

        @Option(help: ArgumentHelp("Report days in this time zone (e.g. Europe/Berlin) instead of UTC.", valueName: "zone"))
        var tz: String?

        func run() throws {
            let now = Int64(Date().timeIntervalSince1970)
            let window = try period(since: since, until: until, now: now)
            guard let zone = TimeZone(identifier: tz ?? "UTC") else { throw ValidationError("--tz \"\(tz!)\": not a time zone name") }
            let database = try openHistory(state)
            let replayPolicy = try policy.map {
                try PolicySet.loadForCommand(directory: $0, now: Date(), assignedTags: (try? database.assignedTags()) ?? [])
            }
            let spans = try replayPolicy.map { try FindingSpan.replayed(in: database, policy: $0, window: window) }
                ?? FindingSpan.stored(in: database, window: window)
            // Rule texts and tags as the collector recorded them, whatever directory this
            // runs in; replayed, the replayed policy's.
            let recorded = PolicyHistory(database: database), asOf = min(now, window.until)
            let tags = replayPolicy.map { HostTags(inventory: $0.inventory, edits: (try? database.allTagEdits()) ?? [:]) }
                ?? recorded.tags(at: asOf)
            let why = replayPolicy.map(RuleTexts.init) ?? recorded.ruleTexts(versions: Set(spans.map(\.policyVersion)), at: asOf)
            var report = try TrendReport.compute(
                spans: spans, database: database, grid: DayGrid(window: window, timeZone: zone, name: tz ?? "UTC"), window: window, grouping: by,
                why: why, tags: tags.of, staleAfter: try state.file().staleAfterSeconds, now: now,
                replayedPolicy: policy)
            if replayPolicy == nil { report.unevaluated = recorded.unevaluated(since: window.since, until: min(now, window.until)) }
            try out.emit(report, what: "the trend report")
            if let threshold = out.failOn, report.openFindings.contains(where: { !$0.span.waived && $0.span.severity >= threshold }) {
                throw ExitCode(1)
            }
        }
    }
}

extension TrendReport.Grouping: ExpressibleByArgument {}
