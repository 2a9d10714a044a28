import CollectorStore
import Findings
import Foundation
import Policy
import PortwardenModel

/// Rule texts and host tags as the collector evaluated with them — the policy versions
/// it recorded in the database — and when it evaluated under none. Reports read these,
/// never a directory: run from cron's home or from /, they say the same.
public final class PolicyHistory {
    let database: any HistoryStore
    private var compiled: [String: PolicySet?] = [:]
    private lazy var periods: [PolicyPeriod] = (try? database.policyPeriods(since: .min, until: .max)) ?? []

    public init(database: any HistoryStore) {
        self.database = database
    }

    /// The version `digest` compiled, nil when not recorded (findings older than v9-policy).
    public func policy(version digest: String) -> PolicySet? {
        if let known = compiled[digest] { return known }
        let policy = try? database.recordedPolicy(digest, today: Day(Date()))
        compiled[digest] = policy
        return policy
    }

    /// The version in force at `time`; in a stretch under no policy, the one before it
    /// (its inventory still says what the hosts are); before any was recorded (a history
    /// older than v9-policy), the first recorded.
    public func policy(at time: Int64) -> PolicySet? {
        periods.last { $0.since <= time && $0.version != nil }?.version.flatMap(policy(version:))
            ?? periods.first { $0.version != nil }?.version.flatMap(policy(version:))
    }

    /// Hosts' tags as of `time`: that policy's inventory with operators' edits.
    public func tags(at time: Int64) -> HostTags {
        HostTags(inventory: policy(at: time)?.inventory, edits: (try? database.allTagEdits()) ?? [:])
    }

    /// Each rule's text in each of `versions`; for a version not recorded, the text of
    /// the version in force at `time`.
    public func ruleTexts(versions: Set<String>, at time: Int64) -> RuleTexts {
        var texts = policy(at: time).map(RuleTexts.init) ?? RuleTexts()
        for version in versions {
            if let policy = policy(version: version) { texts.byVersion[version] = RuleTexts.byRule(policy) }
        }
        return texts
    }

    /// The stretches of [since, until) evaluated under no policy, clipped to it.
    public func unevaluated(since: Int64, until: Int64) -> [PolicyPeriod] {
        periods.filter { $0.version == nil && $0.since < until && ($0.until.map { $0 > since } ?? true) }.map {
            PolicyPeriod(since: max($0.since, since), until: $0.until.map { min($0, until) }, version: nil)
        }
    }
}

/// What each finding's rule says, in the policy version that produced it.
public struct RuleTexts: Sendable {
    /// By version digest, then rule id.
    public var byVersion: [String: [String: String]]
    /// For a version never recorded: by rule id.
    public var fallback: [String: String]

    public init(byVersion: [String: [String: String]] = [:], fallback: [String: String] = [:]) {
        self.byVersion = byVersion
        self.fallback = fallback
    }

    /// `policy`'s texts, for its own findings and for any other version's.
    public init(_ policy: PolicySet) {
        self.init(byVersion: [policy.digest: Self.byRule(policy)], fallback: Self.byRule(policy))
    }

    static func byRule(_ policy: PolicySet) -> [String: String] {
        Dictionary(policy.rules.map { ($0.id, $0.why) }, uniquingKeysWith: { first, _ in first })
    }

    public subscript(rule: String, version: String) -> String {
        byVersion[version]?[rule] ?? fallback[rule] ?? ""
    }
}

/// The header lines that say how far a report's findings can be trusted: which policy
/// versions they come from, and when nothing was evaluated.
enum PolicyLines {
    /// `Policy versions: abc123def456 (3 findings), 0f1e2d3c4b5a (1 finding)`, most findings first.
    static func versions(_ versions: [String], of what: String) -> String? {
        guard !versions.isEmpty else { return nil }
        var counts: [String: Int] = [:]
        for version in versions { counts[version, default: 0] += 1 }
        let listed = counts.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            .map { "\(short($0.key)) (\($0.value) \(what)\($0.value == 1 ? "" : "s"))" }
        return "Policy version\(counts.count == 1 ? "" : "s"): " + listed.joined(separator: ", ")
    }

    /// `Not evaluated: … to … under no policy (serve --no-policy): findings from then are missing`.
    static func unevaluated(_ periods: [PolicyPeriod]) -> String? {
        guard !periods.isEmpty else { return nil }
        let spans = periods.map { "\(Timestamp.rfc3339($0.since)) to \($0.until.map { Timestamp.rfc3339($0) } ?? "now")" }
        return "NOT EVALUATED: \(spans.joined(separator: ", ")) ran under no policy (serve --no-policy): "
            + "no finding was raised then, whatever the hosts listened on"
    }

    /// `"unevaluated": [{"since", "until"}]`: the stretches under no policy (until null: still).
    static func write(_ periods: [PolicyPeriod], to w: inout JSONWriter) {
        w.key("unevaluated"); w.beginArray()
        for period in periods {
            w.beginObject()
            w.key("since"); w.value(Timestamp.rfc3339(period.since))
            w.key("until"); w.value(period.until.map { Timestamp.rfc3339($0) })
            w.endObject()
        }
        w.endArray()
    }

    /// The 12 hex digits every command shows a policy version by.
    static func short(_ digest: String) -> String { String(digest.prefix(12)) }
}
