import Foundation
import Synchronization

/// Workers each sending their hosts' reports one after another, as fast as the collector
/// answers: every host once a round, for `rounds` rounds or until `seconds` have gone (when
/// not 0). Worker w owns hosts w, w + workers, w + 2 × workers…, so a host's reports stay in order.
struct ClosedLoop {
    let workers: Int
    let rounds: Int
    let seconds: Int

    struct Result {
        var latencies: [Double]
        var failed: Int
        var elapsed: Double
    }

    /// Runs `attempt` (whether the report was acknowledged) for each report; its latency
    /// is kept when it was.
    func run(_ agents: [Agent], _ attempt: @escaping @Sendable (Agent) -> Bool) -> Result {
        let tally = Shared(Result(latencies: [], failed: 0, elapsed: 0))
        let group = DispatchGroup()
        let started = ContinuousClock.now
        for worker in 0..<workers {
            group.enter()
            Thread { [rounds, seconds, workers] in
                var mine: [Double] = [], failed = 0
                let owned = stride(from: worker, to: agents.count, by: workers).map { agents[$0] }
                let deadline = ContinuousClock.now + .seconds(seconds)
                for _ in 0..<rounds {
                    if seconds > 0 && ContinuousClock.now >= deadline { break }
                    for agent in owned {
                        let t0 = ContinuousClock.now
                        if attempt(agent) {
                            mine.append((ContinuousClock.now - t0).inSeconds * 1e3)
                        } else {
                            failed += 1
                        }
                    }
                }
                tally.value.withLock {
                    $0.latencies += mine
                    $0.failed += failed
                }
                group.leave()
            }.start()
        }
        group.wait()
        return tally.value.withLock {
            $0.elapsed = (ContinuousClock.now - started).inSeconds
            return $0
        }
    }
}

/// A value the workers share by reference: a Mutex itself cannot be captured by their closures.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>

    init(_ value: Value) { self.value = Mutex(value) }
}
