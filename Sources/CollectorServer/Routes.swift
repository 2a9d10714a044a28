import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Method and path → the code that answers. A route that touches the database or signs
/// certificates runs on a thread pool, so the event loops only move bytes; reports have
/// one thread of their own, as SQLite has one writer.
struct Routes: Sendable {
    typealias Handler = @Sendable (CollectorRequest) throws -> Reply

    enum Work: Sendable {
        /// Quick and non-blocking: answered on the connection's event loop.
        case inline
        /// May block (SQLite reads, signing): answered on the thread pool.
        case blocking
        /// Writes the history: answered on the writer thread. More threads would only
        /// queue on SQLite's one write lock, switching in and out as they wait.
        case writes
    }

    private var table: [String: [String: (Work, Handler)]] = [:]  // path → method → route
    let pool: NIOThreadPool
    let writer: NIOThreadPool
    let logger: Logger

    init(pool: NIOThreadPool, writer: NIOThreadPool, logger: Logger) {
        self.pool = pool
        self.writer = writer
        self.logger = logger
    }

    mutating func add(_ method: HTTPMethod, _ path: String, _ work: Work, _ handler: @escaping Handler) {
        table[path, default: [:]][method.rawValue] = (work, handler)
    }

    /// The reply to `request`, on `loop`; refusals become their status and message.
    func answer(_ request: CollectorRequest, on loop: any EventLoop) -> EventLoopFuture<Reply> {
        guard let methods = table[String(request.path)] else {
            return loop.makeSucceededFuture(HTTPFailure(.notFound, message: "no such path: \(request.path)").reply)
        }
        guard let (work, handler) = methods[request.head.method.rawValue] else {
            let allowed = methods.keys.sorted().joined(separator: ", ")
            return loop.makeSucceededFuture(HTTPFailure(.methodNotAllowed, headers: ["Allow": allowed],
                                                        message: "\(request.path) takes \(allowed)").reply)
        }
        let logger = logger
        switch work {
        case .inline:
            return loop.makeSucceededFuture(Self.run(handler, request, logger))
        case .blocking, .writes:
            return (work == .writes ? writer : pool).runIfActive(eventLoop: loop) { Self.run(handler, request, logger) }
                .recover { _ in HTTPFailure(.serviceUnavailable, message: "the collector is shutting down").reply }
        }
    }

    private static func run(_ handler: Handler, _ request: CollectorRequest, _ logger: Logger) -> Reply {
        do {
            return try handler(request)
        } catch let failure as HTTPFailure {
            return failure.reply
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            return HTTPFailure(.internalServerError, message: "internal error: \(error)").reply
        }
    }
}
