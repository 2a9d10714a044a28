import CollectorStore
import Dispatch
import Foundation
import Logging

/// Keeps the findings true without reports: reloads the policy when its files change or
/// on SIGHUP, and evaluates every host's open listeners again when a new policy takes
/// effect or a waiver lapses.
public struct PolicyWatcher: Sendable {
    public let holder: PolicyHolder
    public let database: any HistoryStore
    public let logger: Logger

    public init(holder: PolicyHolder, database: any HistoryStore, logger: Logger) {
        self.holder = holder
        self.database = database
        self.logger = logger
    }

    /// One look. `reload` forces reading the files (SIGHUP); `reevaluate` forces
    /// evaluating every host (at start, to catch up on what lapsed while stopped).
    /// What the evaluation changed, when one ran.
    @discardableResult
    public func tick(now: Date = Date(), reload: Bool = false, reevaluate: Bool = false) -> FindingChanges? {
        let reloaded = reload ? holder.reload(now: now) : holder.reloadIfChanged(now: now)
        let lapsed = holder.waiverLapsed(at: now)
        guard reloaded || lapsed || reevaluate, holder.policy != nil else { return nil }
        do {
            let changes = try database.reevaluateFindings(at: now, evaluate: holder.evaluator)
            if changes != FindingChanges() {
                let why = reloaded ? "a new policy" : lapsed ? "a waiver lapsed" : "start"
                logger.info("findings evaluated again (\(why)): \(changes.opened) opened, \(changes.resolved) resolved", metadata: [
                    "event": "findings_reevaluated", "reason": "\(why)", "opened": "\(changes.opened)",
                    "resolved": "\(changes.resolved)"])
            }
            return changes
        } catch {
            logger.error("""
                evaluating the stored listeners again failed (tried again when the policy or a waiver next changes): \
                \(error)
                """, metadata: ["event": "findings_reevaluation_failed", "reason": "\(error)"])
            return nil
        }
    }

    /// Until cancelled: a look every `interval`, and at once on SIGHUP.
    public func run(every interval: Duration = .seconds(3)) async {
        signal(SIGHUP, SIG_IGN)
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hangup.setEventHandler { [self] in
            logger.info("SIGHUP: reading the policy again", metadata: ["event": "policy_reload_asked"])
            tick(reload: true)
        }
        hangup.resume()
        defer { hangup.cancel() }
        tick(reevaluate: true)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            tick()
        }
    }
}
