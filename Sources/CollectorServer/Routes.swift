import CollectorStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Method and path → the code that answers. A route that touches the database or signs
/// certificates runs on a thread pool, keeping SQLite off the event loops (but for the
/// revocation check at each handshake); reports are decoded on the event loop and stored
/// by the ingest queue's thread.
struct Routes: Sendable {
    typealias Handler = @Sendable (CollectorRequest) throws -> Reply
    /// A route that answers later, on the loop it is given.
    typealias FutureHandler = @Sendable (CollectorRequest, any EventLoop) -> EventLoopFuture<Reply>

    enum Work: Sendable {
        /// Quick and non-blocking: answered on the connection's event loop.
        case inline
        /// May block (SQLite, signing): answered on the thread pool.
        case blocking
    }

    private enum Route {
        case now(Work, Handler)
        case later(FutureHandler)
    }

    private var table: [String: [String: Route]] = [:]  // path → method → route
    let pool: NIOThreadPool
    let logger: Logger

    init(pool: NIOThreadPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    mutating func add(_ method: HTTPMethod, _ path: String, _ work: Work, _ handler: @escaping Handler) {
        table[path, default: [:]][method.rawValue] = .now(work, handler)
    }

    mutating func add(_ method: HTTPMethod, _ path: String, _ handler: @escaping FutureHandler) {
        table[path, default: [:]][method.rawValue] = .later(handler)
    }

    /// 404 or 405 for a request no route takes, nil when one does: asked as the head
    /// arrives, so such a request's body is never read.
    func refusal(for head: HTTPRequestHead) -> Reply? {
        guard case .failure(let failure) = route(for: head) else { return nil }
        return failure.reply
    }

    private func route(for head: HTTPRequestHead) -> Result<Route, HTTPFailure> {
        guard let methods = table[String(head.path)] else {
            return .failure(HTTPFailure(.notFound, message: "no such path: \(head.path)"))
        }
        guard let route = methods[head.method.rawValue] else {
            let allowed = methods.keys.sorted().joined(separator: ", ")
            return .failure(HTTPFailure(.methodNotAllowed, headers: ["Allow": allowed], message: "\(head.path) takes \(allowed)"))
        }
        return .success(route)
    }

    /// The reply to `request`, on `loop`; refusals become their status and message.
    func answer(_ request: CollectorRequest, on loop: any EventLoop) -> EventLoopFuture<Reply> {
        let route: Route
        switch self.route(for: request.head) {
        case .success(let found): route = found
        case .failure(let failure): return loop.makeSucceededFuture(failure.reply)
        }
        let logger = logger
        switch route {
        case .now(.inline, let handler):
            return loop.makeSucceededFuture(Self.run(handler, request, logger))
        case .now(.blocking, let handler):
            return pool.runIfActive(eventLoop: loop) { Self.run(handler, request, logger) }
                .recover { _ in HTTPFailure(.serviceUnavailable, message: "the collector is shutting down").reply }
        case .later(let handler):
            return handler(request, loop).recover { Self.reply(to: $0, request, logger) }
        }
    }

    private static func run(_ handler: Handler, _ request: CollectorRequest, _ logger: Logger) -> Reply {
        do { return try handler(request) } catch { return reply(to: error, request, logger) }
    }

    private static func reply(to error: any Error, _ request: CollectorRequest, _ logger: Logger) -> Reply {
        if let failure = error as? HTTPFailure { return failure.reply }
        // The database out of reach (PostgreSQL restarting, a full disk): later, not broken.
        if let error = error as? StorageUnavailable {
            return HTTPFailure(.serviceUnavailable, headers: ["Retry-After": "\(ReportRoutes.retryAfterSeconds)"],
                               message: "database unavailable: \(error); try again later").reply
        }
        logger.error("request failed", metadata: [
            "event": "request_failed", "host": "\(request.peer?.host ?? "-")", "path": "\(request.path)", "reason": "\(error)"])
        return HTTPFailure(.internalServerError, message: "internal error: \(error)").reply
    }
}
