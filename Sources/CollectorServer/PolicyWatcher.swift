import CollectorStore
import Dispatch
import Foundation
import Logging
import Synchronization

/// Keeps the findings true without reports: reloads the policy when its files change or
/// on SIGHUP, and evaluates every host's open listeners again when a new policy takes
/// effect or a waiver lapses.
public struct PolicyWatcher: Sendable {
    public let holder: PolicyHolder
    public let database: any HistoryStore
    public let logger: Logger
    /// Whether this collector held the periodic work at the last look.
    private let upkeep = UpkeepTurn()

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
        // Several collectors on one database: a lapsed waiver is the fleet's periodic work,
        // done by the collector holding it. One taking it over evaluates everything, as at
        // start: the one before may have died before its round. A new policy is this
        // collector's own, and evaluated here.
        let (holds, tookOver, changed) = upkeep.look(database)
        if changed {
            // Said once per change: which collector of several does the periodic work is what an operator looks for.
            if holds {
                logger.info("this collector does the periodic work (waiver expiry, receipt pruning)", metadata: ["event": "upkeep_held"])
            } else {
                logger.info("another collector does the periodic work (or the database cannot be reached now)",
                            metadata: ["event": "upkeep_elsewhere"])
            }
        }
        guard reloaded || (holds && (lapsed || reevaluate || tookOver)), holder.policy != nil else { return nil }
        do {
            // The stamp first: were the policy to change meanwhile, the hosts would be marked
            // as evaluated under the older one, and their next reports come in full.
            let stamp = holder.stamp
            let changes = try database.reevaluateFindings(at: now, evaluate: holder.evaluator, stamp: stamp)
            if changes != FindingChanges() {
                let why = reloaded ? "a new policy" : lapsed ? "a waiver lapsed" : reevaluate ? "start" : "took over the periodic work"
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

/// Whether this collector held the periodic work (`HistoryStore.holdsUpkeep`) at the last
/// look, to notice when it takes it over.
final class UpkeepTurn: Sendable {
    /// nil before the first look: holding it from the start is not taking it over (`run`
    /// evaluates everything at start anyway).
    private let held = Mutex<Bool?>(nil)

    /// Whether it holds the work now, whether it did not at the last look, and whether
    /// that differs from the last look (the first look counts as a change).
    func look(_ database: any HistoryStore) -> (holds: Bool, tookOver: Bool, changed: Bool) {
        let holds = database.holdsUpkeep()
        let before = held.withLock { held in
            defer { held = holds }
            return held
        }
        return (holds, holds && before == false, before != holds)
    }
}
