import Foundation
import Synchronization

/// A fleet offered at a fixed rate, whatever the collector does (`--rate R --seconds S`):
/// report k is due at start + k/R, from host k mod hosts, and is sent by whichever worker
/// is free; its latency counts from when it was due, so time spent queued behind a slow
/// collector counts too. A report is unchanged, changed (one listener moved) or — a
/// share of either — on a full handshake instead of a resumed session. Reports still
/// unsent `grace` seconds after the last was due are not sent but counted: an overloaded
/// run ends in bounded time, its shortfall shown.
struct OpenLoop {
    let rate: Double
    let seconds: Double
    let workers: Int
    /// Shares of all reports: changed (the rest unchanged), and on a full handshake.
    let changed: Double
    let fullHandshakes: Double
    var grace = 30.0

    struct Result {
        var scheduled = 0, acknowledged = 0, failed = 0, unsent = 0, changed = 0, fullHandshakes = 0, fallbacks = 0
        var latencies: [Double] = []
        /// From the first report's due time to the last answer, or the run's length if longer.
        var elapsed = 0.0
        /// The load generator's own CPU seconds (user and system) while the reports went.
        var cpu = 0.0
    }

    func run(_ agents: [Agent]) -> Result {
        let total = Int(rate * seconds)
        let next = Shared(0)
        let results = Shared(Result())
        let group = DispatchGroup()
        let cpuBefore = processCPUSeconds()
        let start = ContinuousClock.now + .milliseconds(50)
        let giveUp = start + .seconds(seconds + grace)
        for _ in 0..<workers {
            group.enter()
            Thread {
                var mine = Result()
                while true {
                    let k = next.value.withLock { k in defer { k += 1 }; return k }
                    guard k < total else { break }
                    guard ContinuousClock.now < giveUp else {
                        mine.unsent += 1
                        continue
                    }
                    let due = start + .nanoseconds(Int64(Double(k) * 1e9 / rate))
                    let wait = due - ContinuousClock.now
                    if wait > .zero { Thread.sleep(forTimeInterval: wait.inSeconds) }
                    let kind: Agent.Kind = Double.random(in: 0..<1) < changed ? .changed : .unchanged
                    let full = Double.random(in: 0..<1) < fullHandshakes
                    let agent = agents[k % agents.count]
                    agent.lock.lock()
                    let delivery = agent.deliver(kind, fullHandshake: full)
                    agent.lock.unlock()
                    mine.scheduled += 1
                    if kind == .changed { mine.changed += 1 }
                    if full { mine.fullHandshakes += 1 }
                    if delivery.fellBack { mine.fallbacks += 1 }
                    if delivery.acknowledged {
                        mine.acknowledged += 1
                        mine.latencies.append((ContinuousClock.now - due).inSeconds * 1e3)
                    } else {
                        mine.failed += 1
                    }
                }
                results.value.withLock { $0.merge(mine) }
                group.leave()
            }.start()
        }
        group.wait()
        return results.value.withLock {
            $0.elapsed = max((ContinuousClock.now - start).inSeconds, seconds)
            $0.cpu = processCPUSeconds() - cpuBefore
            return $0
        }
    }
}

extension OpenLoop.Result {
    mutating func merge(_ other: Self) {
        scheduled += other.scheduled
        acknowledged += other.acknowledged
        failed += other.failed
        unsent += other.unsent
        changed += other.changed
        fullHandshakes += other.fullHandshakes
        fallbacks += other.fallbacks
        latencies += other.latencies
    }
}

extension Duration {
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// This process's CPU seconds so far, user and system, all threads.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
