import CollectorStore
import Foundation
import NIOCore
import PortwardenModel
import Synchronization

/// Reports waiting to be stored, and the one thread that stores them: whatever queued
/// while the last transaction committed goes into the next one together, so a busy
/// collector pays SQLite's commit — and its fsync — once for many reports, and a report
/// is acknowledged only once its transaction has committed. The queue is bounded, in
/// reports and in bytes: past either, a report is refused at once (`Full`, 503) rather than
/// held in memory while the fleet outruns the disk.
final class IngestQueue: Sendable {
    private struct Waiting {
        let request: IngestRequest
        let bytes: Int
        let promise: EventLoopPromise<IngestOutcome>
    }

    private struct State {
        var waiting: [Waiting] = []
        var waitingBytes = 0
        /// Refused reports to record (`RefusalLog` keeps them few), each before the waiting
        /// report at `before`: written in the order they came, with the reports that clear them.
        var refusals: [(before: Int, refusal: HostRefusal)] = []
        var stopping = false
    }

    /// At most this many reports share a transaction, which bounds how long one holds
    /// SQLite's write lock (readers never wait for it; `portwarden` commands may).
    static let batchLimit = 128

    /// Reports waiting, at most; and their bodies' bytes, at most (one report is always
    /// taken, whatever its size, when none waits).
    let maxReports: Int
    let maxBytes: Int
    private let database: any HistoryStore
    private let findings: FindingEvaluator?
    private let clock: ReportClock
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    init(database: any HistoryStore, findings: FindingEvaluator?, clock: ReportClock = ReportClock(),
         maxReports: Int = 1_024, maxBytes: Int = 64 * WireLimits.snapshotBytes) {
        self.database = database
        self.findings = findings
        self.clock = clock
        self.maxReports = maxReports
        self.maxBytes = maxBytes
    }

    /// Queues `request` (its body `bytes` long); the future completes on `loop` once it is
    /// stored (or refused), or at once with `Full` or `ShuttingDown`.
    func submit(_ request: IngestRequest, bytes: Int, on loop: any EventLoop) -> EventLoopFuture<IngestOutcome> {
        let promise = loop.makePromise(of: IngestOutcome.self)
        let refusal: (any Error)? = state.withLock { state in
            if state.stopping { return ShuttingDown() }
            guard state.waiting.count < maxReports, state.waiting.isEmpty || state.waitingBytes + bytes <= maxBytes else {
                return Full(reports: state.waiting.count, bytes: state.waitingBytes)
            }
            state.waiting.append(Waiting(request: request, bytes: bytes, promise: promise))
            state.waitingBytes += bytes
            return nil
        }
        if let refusal { promise.fail(refusal) } else { wake.signal() }
        return promise.futureResult
    }

    /// Records `refusal` with the next batch.
    func record(_ refusal: HostRefusal) {
        let accepted = state.withLock { state in
            if !state.stopping { state.refusals.append((state.waiting.count, refusal)) }
            return !state.stopping
        }
        if accepted { wake.signal() }
    }

    /// Reports waiting now, for /metrics.
    var count: Int { state.withLock { $0.waiting.count } }

    func start() {
        Thread { [self] in
            Thread.current.name = "ingest"  // set from the thread itself: what `top -H` and /proc show
            run()
        }.start()
    }

    /// Stores what is queued, then stops; returns when the thread has.
    func stop() async {
        state.withLock { $0.stopping = true }
        wake.signal()
        // Waited for off the cooperative pool, whose few threads must not block.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [stopped] in
                stopped.wait()
                done.resume()
            }
        }
    }

    private func run() {
        while true {
            wake.wait()
            let (batch, refusals, last) = state.withLock { state in
                let batch = Array(state.waiting.prefix(Self.batchLimit))
                state.waiting.removeFirst(batch.count)
                state.waitingBytes -= batch.reduce(0) { $0 + $1.bytes }
                let taken = state.refusals.prefix { $0.before <= batch.count }
                state.refusals = state.refusals.dropFirst(taken.count).map { ($0.before - batch.count, $0.refusal) }
                if !state.waiting.isEmpty { wake.signal() }  // more than one batch waits
                return (batch, Array(taken), state.stopping && state.waiting.isEmpty)
            }
            if !batch.isEmpty || !refusals.isEmpty { store(batch, refusals) }
            if last { break }
        }
        stopped.signal()
    }

    private func store(_ batch: [Waiting], _ refusals: [(before: Int, refusal: HostRefusal)]) {
        do {
            let results = try database.ingest(batch.map(\.request), refusals: refusals, findings: findings, clock: clock)
            for (waiting, result) in zip(batch, results) { waiting.promise.completeWith(result) }
        } catch {
            for waiting in batch { waiting.promise.fail(error) }
        }
    }

    struct ShuttingDown: Error, CustomStringConvertible {
        var description: String { "the collector is shutting down" }
    }

    struct Full: Error, CustomStringConvertible {
        let reports: Int
        let bytes: Int
        var description: String { "\(reports) reports (\(bytes) bytes) already wait to be stored" }
    }
}
