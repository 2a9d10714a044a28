import CollectorStore
import Policy

/// "Is the fleet getting better or worse, and who owns what is left?" — computed from
/// finding spans, receipt runs and hosts over a window of days. Everything a renderer
/// shows is here; renderers only lay it out.
public struct TrendReport: Sendable {
    /// How the daily exposure is broken down with `--by`.
    public enum Grouping: String, CaseIterable, Sendable {
        case rule, port, tag, severity
    }

    public struct DayRow: Equatable, Sendable {
        public var day: DayGrid.Day
        /// False for a day that ended before the collector stored any host's first report:
        /// its exposure is unknown ("no data"), not 0, and no verdict starts from it.
        public var hasData = true
        /// Hosts with at least one report received during the day (the collector's clock).
        public var hostsReporting: Int
        /// Hosts with an open, non-waived finding at the day's end: unexpected exposure.
        public var hostsExposed: Int
        public var openFindings: Int
        public var newFindings: Int
        /// Findings that stopped during the day because the listener went or the policy changed.
        public var resolvedFindings: Int
        /// Findings closed because `hosts forget` retired their host: not fixed.
        public var retiredFindings: Int = 0
        public var waivedOpen: Int
        /// With `--by`: open, non-waived findings at the day's end per group.
        public var groups: [String: Int]
    }

    public struct OpenFinding: Equatable, Sendable {
        public var span: FindingSpan
        public var why: String
        public var ageSeconds: Int64
    }

    public struct Coverage: Equatable, Sendable {
        public var hosts: Int
        public var reporting: Int
        /// No report within the stale window: what they listen on now is unknown.
        public var stale: Int
        /// Their newest report was refused (`HostState`): unknown too, and why is known.
        public var refusing: Int = 0
    }

    public struct ResolveTimes: Equatable, Sendable {
        public var count: Int
        public var medianSeconds: Int64?
        public var p90Seconds: Int64?
    }

    public var window: TimeWindow
    public var timeZone: String
    public var generatedAt: Int64
    public var grouping: Grouping?
    /// The policy the findings come from when replayed (`--policy`), else nil: stored.
    public var replayedPolicy: String?
    public var days: [DayRow]
    public var groupNames: [String]
    public var timeToResolve: ResolveTimes
    public var openFindings: [OpenFinding]
    public var topHosts: [(name: String, findings: Int)]
    public var topProcesses: [(name: String, findings: Int)]
    public var coverage: Coverage
    public var staleHosts: [String]
    /// The refusing hosts' newest refusals, by host name.
    public var refusingHosts: [HostRefusal] = []
    /// Stretches of the window evaluated under no policy (`serve --no-policy`).
    public var unevaluated: [PolicyPeriod] = []

    /// Computes the report. `why` gives each rule's sentence in each policy version; `tags` each host's tags
    /// (for `--by tag`).
    public static func compute(spans: [FindingSpan], database: any HistoryStore, grid: DayGrid, window: TimeWindow,
                               grouping: Grouping?, why: RuleTexts, tags: (String) -> Set<String>,
                               staleAfter: Int64, now: Int64, replayedPolicy: String? = nil) throws -> TrendReport {
        let live = spans.filter { !$0.waived }
        // Each host's tags looked up once (inventory globs are matched per lookup).
        var tagsByHost: [String: [String]] = [:]
        if grouping == .tag {
            for host in Set(spans.map(\.host)) { tagsByHost[host] = tags(host).sorted() }
        }
        func groups(of span: FindingSpan) -> [String] {
            switch grouping {
            case nil: []
            case .rule: [span.rule]
            case .port: ["\(span.port)/\(span.transport)"]
            case .severity: [span.severity.rawValue]
            case .tag:
                tagsByHost[span.host].flatMap { $0.isEmpty ? nil : $0 } ?? ["(untagged)"]
            }
        }

        // Hosts reporting per day, from the receipt runs' receive times (the collector's
        // clock, as coverage and `hosts list` count): one pass over plain integers.
        var reportingPerDay = Array(repeating: Set<Int64>(), count: grid.days.count)
        if let first = grid.days.first, let last = grid.days.last {
            try database.forEachReportingSpan(since: first.start, until: last.end) { hostId, firstReceived, lastReceived in
                let from = grid.index(containing: max(firstReceived, first.start))
                let to = grid.index(containing: min(lastReceived, last.end - 1))
                guard from <= to else { return }
                for index in from...to { reportingPerDay[index].insert(hostId) }
            }
        }
        let all = try database.hosts(now: now, staleAfter: staleAfter).map(\.host)
        // The fleet's first stored report: the days that ended before it have no data.
        let dataSince = all.map { $0.firstReceived ?? $0.firstSeen }.min()

        var names = Set<String>()
        let days = grid.days.enumerated().map { index, day -> DayRow in
            let open = live.filter { $0.isOpen(at: day.end - 1) }
            var counts: [String: Int] = [:]
            for span in open { for group in groups(of: span) { counts[group, default: 0] += 1 } }
            names.formUnion(counts.keys)
            return DayRow(day: day, hasData: dataSince.map { $0 < day.end } ?? false, hostsReporting: reportingPerDay[index].count,
                          hostsExposed: Set(open.map(\.host)).count, openFindings: open.count,
                          newFindings: live.count { $0.opened >= day.start && $0.opened < day.end },
                          resolvedFindings: live.count { !$0.retired && $0.closed.map { $0 >= day.start && $0 < day.end } ?? false },
                          retiredFindings: live.count { $0.retired && $0.closed.map { $0 >= day.start && $0 < day.end } ?? false },
                          waivedOpen: spans.count { $0.waived && $0.isOpen(at: day.end - 1) },
                          groups: counts)
        }

        // A retirement fixed nothing: its closings are no time to resolve.
        let durations = live.filter { !$0.retired }.compactMap { span in
            span.closed.flatMap { $0 >= window.since && $0 < window.until ? $0 - span.opened : nil }
        }.sorted()
        func percentile(_ p: Double) -> Int64? {
            durations.isEmpty ? nil : durations[min(durations.count - 1, Int((Double(durations.count) * p).rounded(.up)) - 1)]
        }

        let end = window.until - 1
        let stillOpen = spans.filter { $0.isOpen(at: end) }
            .map { OpenFinding(span: $0, why: why[$0.rule, $0.policyVersion], ageSeconds: window.until - $0.opened) }
            .sorted { ($0.span.waived ? 1 : 0, $1.span.severity, $1.ageSeconds, $0.span.host, $0.span.port)
                < ($1.span.waived ? 1 : 0, $0.span.severity, $0.ageSeconds, $1.span.host, $1.span.port) }
        func top(_ key: (FindingSpan) -> [String]) -> [(name: String, findings: Int)] {
            var counts: [String: Int] = [:]
            for finding in stillOpen where !finding.span.waived { for name in key(finding.span) { counts[name, default: 0] += 1 } }
            return counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.prefix(10).map { ($0.key, $0.value) }
        }

        // Coverage as of the window's last second (now, unless --until is past): a host
        // counts from the collector's receipt of its first report, inclusive — the host's
        // own clock decides nothing — until it is retired. A report on last month is judged
        // by last month (by the hosts' latest report: exact when the window ends now). A
        // host refused from its first report on has no host row, and counts too.
        let asOf = min(now, window.until - 1)
        let refusals = try database.currentRefusals().filter { $0.value.firstRefused <= asOf }
        let known = Set(all.map(\.name))
        let states = all.filter { ($0.firstReceived ?? $0.firstSeen) <= asOf && ($0.retiredAt.map { $0 > asOf } ?? true) }
            .map { host in
                var before = host
                before.retiredAt = nil  // retired after the period: in the fleet throughout it
                return (host.name, HostState(host: before, refusal: refusals[host.name], now: asOf, staleAfter: staleAfter))
            }
            + refusals.values.filter { !known.contains($0.hostName) }.map { ($0.hostName, HostState.refusing($0)) }
        let stale = states.filter { $0.1 == .stale }.map(\.0).sorted()
        let refusing = states.compactMap(\.1.refusal).sorted { $0.hostName < $1.hostName }
        return TrendReport(
            window: window, timeZone: grid.timeZone, generatedAt: now, grouping: grouping, replayedPolicy: replayedPolicy,
            days: days, groupNames: names.sorted(),
            timeToResolve: ResolveTimes(count: durations.count, medianSeconds: percentile(0.5), p90Seconds: percentile(0.9)),
            openFindings: stillOpen,
            topHosts: top { [$0.host] },
            topProcesses: top { $0.owners.isEmpty ? ["(no owner seen)"] : $0.owners.components(separatedBy: ", ") },
            coverage: Coverage(hosts: states.count, reporting: states.count - stale.count - refusing.count, stale: stale.count,
                               refusing: refusing.count),
            staleHosts: stale, refusingHosts: refusing)
    }
}
