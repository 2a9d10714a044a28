import ArgumentParser
import CollectorStore
import Findings
import Foundation
import Policy
import PortwardenModel
import Reports

extension PolicyCommand {
    /// `portwarden policy replay`
    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What another policy would have found over the stored listener history.",
            discussion: """
                Walks each host's listener intervals since --since and evaluates the policy \
                in --policy at every instant a listener appeared or went (and a waiver \
                lapsed): each finding is printed with when it would have opened and been \
                resolved. Use it to try a rule or a waiver before it goes live. Tags are \
                today's (inventory plus `hosts tag|untag`); labels are those each host \
                declared at the time, to the second (labels changed twice within one \
                second replay as the second; databases older than v8 know only each \
                host's newest, from its first report on). Under the policy in force, it \
                opens and resolves what `serve` did, at the same times.
                """)

        @OptionGroup var state: StateOptions

        @Option(name: [.customLong("policy"), .customLong("policies")],
                help: ArgumentHelp("The policy directory to replay (default: the config's `policies`, else ./Policies).", valueName: "dir"))
        var policy: String?

        @Option(help: ArgumentHelp("How far back: 90d, 12h, 30m, or a day YYYY-MM-DD (UTC).", valueName: "age"))
        var since: String = "90d"

        @Option(help: ArgumentHelp("Only this host.", valueName: "host"))
        var host: String?

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        func validate() throws {
            _ = try period(since: since, until: nil, now: Int64(Date().timeIntervalSince1970))
        }

        func run() throws {
            let now = Date()
            let history = try openHistory(state)
            let directory = try PolicyOptions(policies: policy).directory(state)
            let set = try PolicySet.loadForCommand(directory: directory, now: now, assignedTags: try history.assignedTags())
            let window = try period(since: self.since, until: nil, now: Int64(now.timeIntervalSince1970))
            let since = Date(timeIntervalSince1970: TimeInterval(window.since))
            let timeline = try history.listenerTimeline(since: window.since, host: host)
            if let host, timeline.isEmpty { throw ValidationError("no host named \(host) is in the history") }
            let replayed = PolicyReplay.run(policy: set, timeline: timeline, tags: try history.allTagEdits(), since: since, until: now)
            switch format {
            case .json:
                Listing.print("intervals", replayed)
            case .table:
                let rows = replayed.map { r in
                    [r.finding.host, (r.openAtStart ? "≤ " : "") + Timestamp.rfc3339(Int64(r.opened.timeIntervalSince1970)),
                     r.closed.map { Timestamp.rfc3339(Int64($0.timeIntervalSince1970)) } ?? "open"] + findingRow(r.finding)
                }
                print(TextLayout.table(["HOST", "OPENED (UTC)", "RESOLVED (UTC)", "SEVERITY", "RULE", "PROTO", "ADDRESS:PORT", "NETNS",
                                        "OWNERS", "WAIVED"], rows, width: .max), terminator: "")
                print("\(replayed.count) finding interval\(replayed.count == 1 ? "" : "s") since \(Timestamp.rfc3339(window.since)) "
                    + "on \(timeline.count) host\(timeline.count == 1 ? "" : "s") under policy \(set.digest.prefix(12)) from \(directory)")
            }
        }
    }
}

extension PolicyOptions {
    init(policies: String?) {
        self.init()
        self.policies = policies
    }
}
