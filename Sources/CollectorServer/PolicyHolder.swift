import CollectorStore
import Foundation
import Logging
import Policy
import Findings
import Synchronization

/// The policy in force, and the one place that loads another: a policy with errors is
/// refused and the one in force keeps running.
public final class PolicyHolder: Sendable {
    /// The policy directory.
    public let directory: String
    private let metrics: CollectorMetrics
    private let logger: Logger
    private let assignedTags: @Sendable () -> Set<String>
    /// Where each policy taking effect is recorded, so reports read what was in force.
    private let history: (any HistoryStore)?

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
                assignedTags: @escaping @Sendable () -> Set<String> = { [] }, history: (any HistoryStore)? = nil) {
        self.directory = directory
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
            return refuse(fingerprint, "cannot read the policy directory \(directory): \(error)")
        }
        // No rule file evaluates to no finding: every host compliant, as with no policy.
        guard sources.contains(where: { $0.kind == .rules }) else {
            return refuse(fingerprint, "\(directory) holds no rule file (a *.yaml other than catalog, inventory and waivers): "
                          + "give the directory holding the policy files, or serve --no-policy to serve without one")
        }
        let load = PolicySet.load(sources, today: Day(now), assignedTags: assignedTags())
        guard let policy = load.policy else {
            return refuse(fingerprint, load.errors.map(\.description).joined(separator: "\n"))
        }
        // Rule files that define no rule (`rules: []`) are no policy either.
        guard !policy.rules.isEmpty else {
            return refuse(fingerprint, "\(directory) defines no rule (every rule file's `rules:` is empty): every host would "
                          + "look compliant; give the directory holding the policy files, or serve --no-policy to serve without one")
        }
        for warning in load.warnings { logger.warning("\(warning)") }
        // Recorded before it evaluates anything: a finding never names a version the
        // database cannot show. Not recorded, it does not take effect; the next look retries.
        do {
            try history?.recordPolicy(policy, at: Int64(now.timeIntervalSince1970))
        } catch {
            metrics.policyLoadFailed()
            logger.error("policy \(policy.digest.prefix(12)) could not be recorded in the database, so it is not in force yet: \(error)")
            return false
        }
        state.withLock {
            $0.policy = policy
            $0.fingerprint = fingerprint
            $0.nextExpiry = policy.nextWaiverExpiry(after: now)
        }
        metrics.policyLoaded(version: policy.digest)
        logger.info("policy \(policy.digest.prefix(12)) in force from \(directory): \(policy.rules.count) rules, \(policy.waivers.count) waivers")
        return true
    }

    private func refuse(_ fingerprint: [String], _ why: String) -> Bool {
        let kept = state.withLock {
            $0.fingerprint = fingerprint
            return $0.policy?.digest
        }
        metrics.policyLoadFailed()
        logger.error("policy refused, \(kept.map { "policy \($0.prefix(12)) stays in force" } ?? "no policy in force"):\n\(why)")
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
