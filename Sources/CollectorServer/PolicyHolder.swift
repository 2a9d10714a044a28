import CollectorStore
import Foundation
import Logging
import Policy
import Findings
import Synchronization

/// The policy in force, and the one place that loads another: a policy with errors is
/// refused and the one in force keeps running. Its tests (`tests/*.yaml`) change no
/// finding, so tests that fail, or a test file with errors, are reported (in the log and
/// /metrics) and the policy loads all the same — unless `strictTests`
/// (`serve --strict-policy-tests`). Each load or refusal is one log event.
public final class PolicyHolder: Sendable {
    /// The policy directory.
    public let directory: String
    private let metrics: CollectorMetrics
    private let logger: Logger
    private let assignedTags: @Sendable () -> Set<String>
    /// Where each policy taking effect is recorded, so reports read what was in force.
    private let history: (any HistoryStore)?
    /// Refuse a policy whose tests fail or cannot be read.
    private let strictTests: Bool

    private struct State {
        var policy: PolicySet?
        /// The files as last read (name, size, mtime), loaded or refused: a broken file is
        /// refused once, not at every poll.
        var fingerprint: [String]?
        /// When a waiver in force lapses next: every host is evaluated again then.
        var nextExpiry: Date?
    }
    private let state = Mutex(State())

    public init(directory: String, metrics: CollectorMetrics, logger: Logger,
                assignedTags: @escaping @Sendable () -> Set<String> = { [] }, history: (any HistoryStore)? = nil,
                strictTests: Bool = false) {
        self.directory = directory
        self.strictTests = strictTests
        self.metrics = metrics
        self.logger = logger
        self.assignedTags = assignedTags
        self.history = history
    }

    public var policy: PolicySet? { state.withLock { $0.policy } }

    /// Reads the directory again. Whether a new policy took effect; when the files have
    /// errors they are logged and counted, and the policy in force stays.
    @discardableResult
    public func reload(now: Date = Date()) -> Bool {
        let fingerprint = Self.fingerprint(directory)
        let sources: [PolicySource]
        do {
            sources = try PolicySource.read(directory: directory)
        } catch {
            return refuse(fingerprint, "unreadable", "cannot read the policy directory \(directory): \(error)")
        }
        // No rule file evaluates to no finding: every host compliant, as with no policy.
        guard sources.contains(where: { $0.kind == .rules }) else {
            return refuse(fingerprint, "no_rule_file", "\(directory) holds no rule file (a *.yaml other than catalog, inventory "
                          + "and waivers): give the directory holding the policy files, or serve --no-policy to serve without one")
        }
        let (load, unreadableTests) = self.load(sources, now: now)
        guard let policy = load.policy else {
            return refuse(fingerprint, "errors", load.errors.map(\.description).joined(separator: "\n"), errors: load.errors.count)
        }
        // Rule files that define no rule (`rules: []`) are no policy either.
        guard !policy.rules.isEmpty else {
            return refuse(fingerprint, "no_rule", "\(directory) defines no rule (every rule file's `rules:` is empty): every host "
                          + "would look compliant; give the directory holding the policy files, or serve --no-policy to serve without one")
        }
        let tests = PolicyTestReport(policy.runTests(now: now), unreadable: unreadableTests)
        if strictTests, let why = tests.failure {
            return refuse(fingerprint, "tests_failed", why + " (serve --strict-policy-tests): fix the policy or its tests; "
                          + "`portwarden policy test --policies \(directory)` shows each case\n" + tests.detail,
                          errors: tests.failed.count + tests.unreadable.count)
        }
        for warning in load.warnings {
            logger.warning("policy warning: \(warning)", metadata: ["event": "policy_warning", "file": "\(warning.file)",
                                                                    "line": "\(warning.line)", "reason": "\(warning.message)"])
        }
        // Recorded before it evaluates anything: a finding never names a version the
        // database cannot show. Not recorded, it does not take effect; the next look retries.
        do {
            try history?.recordPolicy(policy, at: Int64(now.timeIntervalSince1970))
        } catch {
            metrics.policyLoadFailed()
            logger.error("""
                policy \(policy.digest.prefix(12)) could not be recorded in the database, so it is not in force yet \
                (tried again at the next look): \(error)
                """, metadata: ["event": "policy_not_recorded", "version": "\(policy.digest.prefix(12))", "reason": "\(error)"])
            return false
        }
        let previous = state.withLock {
            let previous = $0.policy?.digest
            $0.policy = policy
            $0.fingerprint = fingerprint
            $0.nextExpiry = policy.nextWaiverExpiry(after: now)
            return previous
        }
        metrics.policyLoaded(version: policy.digest)
        metrics.policyTests(tests)
        logger.info("""
            policy \(policy.digest.prefix(12)) in force from \(directory): \(policy.rules.count) rules, \
            \(policy.waivers.count) waivers, \(tests.summary)
            """, metadata: [
                "event": previous == nil ? "policy_loaded" : "policy_reloaded", "version": "\(policy.digest.prefix(12))",
                "previous": "\(previous.map { String($0.prefix(12)) } ?? "none")", "directory": "\(directory)",
                "rules": "\(policy.rules.count)", "waivers": "\(policy.waivers.count)",
                "tests_passed": "\(tests.passed)", "tests_failed": "\(tests.failed.count)",
                "tests_unreadable": "\(tests.unreadable.count)"])
        if let why = tests.failure {
            logger.warning("""
                policy \(policy.digest.prefix(12)) is in force, but \(why): `portwarden policy test --policies \
                \(directory)` shows each case
                """, metadata: [
                    "event": "policy_tests_failed", "version": "\(policy.digest.prefix(12))",
                    "failed": "\(tests.failed.joined(separator: ", "))", "reason": "\(tests.detail)"])
        }
        return true
    }

    /// The policy in `sources`. Errors in test files alone do not refuse it (but for
    /// `strictTests`): it is loaded without those files (the other tests still run), and
    /// their errors are returned.
    private func load(_ sources: [PolicySource], now: Date) -> (PolicyLoad, unreadableTests: [Diagnostic]) {
        let load = PolicySet.load(sources, today: Day(now), assignedTags: assignedTags())
        let testFiles = Set(sources.filter { $0.kind == .tests }.map(\.displayPath))
        guard load.policy == nil, !strictTests, !testFiles.isEmpty, load.errors.allSatisfy({ testFiles.contains($0.file) }) else {
            return (load, [])
        }
        let broken = Set(load.errors.map(\.file))
        let rest = sources.filter { !($0.kind == .tests && broken.contains($0.displayPath)) }
        return (PolicySet.load(rest, today: Day(now), assignedTags: assignedTags()), load.errors)
    }

    /// One event for a refusal, whatever its reason: the reason's name, what stays in
    /// force, and the errors (all of them, on the one line).
    private func refuse(_ fingerprint: [String], _ reason: String, _ why: String, errors: Int = 1) -> Bool {
        let kept = state.withLock {
            $0.fingerprint = fingerprint
            return $0.policy?.digest
        }
        metrics.policyLoadFailed()
        let staying = kept.map { "policy \($0.prefix(12)) stays in force" } ?? "no policy in force"
        logger.error("policy in \(directory) refused (\(errors) error\(errors == 1 ? "" : "s")), \(staying): \(why)", metadata: [
            "event": "policy_refused", "directory": "\(directory)", "reason": "\(reason)", "errors": "\(errors)",
            "kept": "\(kept.map { String($0.prefix(12)) } ?? "none")"])
        return false
    }

    /// `reload` when a file was added, removed or changed since the last look.
    public func reloadIfChanged(now: Date = Date()) -> Bool {
        let current = Self.fingerprint(directory)
        guard state.withLock({ $0.fingerprint != current }) else { return false }
        return reload(now: now)
    }

    /// Whether a waiver in force has lapsed by `now`; if so the next one is due next.
    func waiverLapsed(at now: Date) -> Bool {
        state.withLock {
            guard let next = $0.nextExpiry, next <= now else { return false }
            $0.nextExpiry = $0.policy?.nextWaiverExpiry(after: now)
            return true
        }
    }

    /// The policy in force and when its next waiver lapses: what a host's findings were
    /// evaluated under (`EvaluationStamp`); nil without a policy.
    public var stamp: EvaluationStamp? {
        state.withLock { state in
            state.policy.map { EvaluationStamp(policy: $0.digest, until: state.nextExpiry.map { Int64($0.timeIntervalSince1970.rounded(.up)) }) }
        }
    }

    /// Evaluates with whatever policy is in force when called; nil without one.
    public var evaluator: FindingEvaluator {
        { [self] subject, open in policy?.update(subject, open: open) }
    }

    /// Name, size and modification time of every YAML file the policy reads.
    static func fingerprint(_ directory: String) -> [String] {
        var entries: [String] = []
        for sub in ["", "/tests"] {
            let folder = directory + sub
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
            where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
                let attributes = try? FileManager.default.attributesOfItem(atPath: folder + "/" + name)
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                entries.append("\(sub)/\(name) \(attributes?[.size] as? Int ?? -1) \(modified)")
            }
        }
        return entries
    }
}
