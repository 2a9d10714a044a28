import CollectorStore
import Foundation
import NIOCore
import Synchronization

/// Reports waiting to be stored, and the one thread that stores them: whatever queued
/// while the last transaction committed goes into the next one together, so a busy
/// collector pays SQLite's commit — and its fsync — once for many reports, and a report
/// is acknowledged only once its transaction has committed.
final class IngestQueue: Sendable {
    private struct Waiting {
        let request: IngestRequest
        let promise: EventLoopPromise<IngestOutcome>
    }

    private struct State {
        var waiting: [Waiting] = []
        var stopping = false
    }

    /// At most this many reports share a transaction, which bounds how long one holds
    /// SQLite's write lock (readers never wait for it; `portwarden` commands may).
    static let batchLimit = 128

    private let database: CollectorDatabase
    private let findings: FindingEvaluator?
    private let state = Mutex(State())
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    init(database: CollectorDatabase, findings: FindingEvaluator?) {
        self.database = database
        self.findings = findings
    }

    /// Queues `request`; the future completes on `loop` once it is stored (or refused).
    func submit(_ request: IngestRequest, on loop: any EventLoop) -> EventLoopFuture<IngestOutcome> {
        let promise = loop.makePromise(of: IngestOutcome.self)
        let accepted = state.withLock { state in
            if !state.stopping { state.waiting.append(Waiting(request: request, promise: promise)) }
            return !state.stopping
        }
        if accepted { wake.signal() } else { promise.fail(ShuttingDown()) }
        return promise.futureResult
    }

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
            let (batch, last) = state.withLock { state in
                let batch = Array(state.waiting.prefix(Self.batchLimit))
                state.waiting.removeFirst(batch.count)
                if !state.waiting.isEmpty { wake.signal() }  // more than one batch waits
                return (batch, state.stopping && state.waiting.isEmpty)
            }
            if !batch.isEmpty { store(batch) }
            if last { break }
        }
        stopped.signal()
    }

    private func store(_ batch: [Waiting]) {
        do {
            let results = try database.ingest(batch.map(\.request), findings: findings)
            for (waiting, result) in zip(batch, results) { waiting.promise.completeWith(result) }
        } catch {
            for waiting in batch { waiting.promise.fail(error) }
        }
    }

    struct ShuttingDown: Error, CustomStringConvertible {
        var description: String { "the collector is shutting down" }
    }
}
