import Foundation
import NIOCore
import NIOHTTP1
import PortwardenModel

/// Serves a connection's requests one at a time (NIO's pipelining handler holds the next
/// back until this one is answered): gathers the head and body, has the routes answer,
/// writes the reply, and keeps the connection for another request unless either side
/// asked to close. One timer bounds the waiting: a connection that goes `header` without
/// a request head from connecting (the TLS handshake included) is closed, and so is one
/// whose request is not whole `request` after its head — an agent dripping a body a byte
/// at a time cannot hold a connection. Between an answer and the next head the wait is
/// `keepAlive`, longer: an agent keeps its connection from one report to the next, and
/// while it waits the connection is idle (`Connections`) and gives way to a new one at a
/// cap.
/// A host revoked (by `hosts revoke`, another process) while its connection is kept alive
/// gets 403 for its next request, and the connection closed — so does one whose renewed
/// certificate has been presented since: as each head arrives, the certificate is looked
/// up again unless it was less than `revocationRecheck` ago.
final class RequestHandler: ChannelInboundHandler {
    /// How stale a connection's revocation answer may be. A lookup costs ~90 µs of CPU
    /// (GRDB's read machinery, more than the rest of a request; see README.md): an agent's
    /// one report a connection reuses the handshake's answer, and a client firing
    /// requests on a kept-alive connection pays one lookup a second, not one a request.
    static let revocationRecheck = TimeAmount.seconds(1)

    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// How long a connection may wait for each thing.
    struct Timeouts {
        var header: TimeAmount
        var request: TimeAmount
        var keepAlive: TimeAmount

        init(_ settings: CollectorApplication.Settings) {
            header = .seconds(settings.headerTimeout)
            request = .seconds(settings.requestTimeout)
            keepAlive = .seconds(settings.keepAliveTimeout)
        }

        /// How long a connection without a fleet certificate is kept after an answer: no
        /// longer than before its first request, nor than a host's.
        var stranger: TimeAmount { min(header, keepAlive) }
    }

    private let routes: Routes
    private let timeouts: Timeouts
    /// `Keep-Alive: timeout=N`, on every answer that keeps the connection: the agent
    /// does not offer a connection the collector is about to close.
    private let keepAliveHeaders: (host: String, anonymous: String)
    private let metrics: CollectorMetrics
    private let certificates: CertificateCheck
    private let connections: Connections
    private var peer: PeerIdentity?
    /// When the peer's certificate was last found not revoked (at the handshake, first).
    private var revocationChecked = NIODeadline.distantPast
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    /// A whole request is with the routes and not yet answered.
    private var answering = false
    /// An answer has been written on this connection: the next request comes on a kept one.
    private var answered = false
    /// Closes the connection when the head or the rest of the request is late.
    private var deadline: Scheduled<Void>?

    init(routes: Routes, timeouts: Timeouts, metrics: CollectorMetrics, certificates: CertificateCheck, connections: Connections) {
        self.routes = routes
        self.timeouts = timeouts
        keepAliveHeaders = ("timeout=\(timeouts.keepAlive.nanoseconds / 1_000_000_000)",
                            "timeout=\(timeouts.stranger.nanoseconds / 1_000_000_000)")
        self.metrics = metrics
        self.certificates = certificates
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { waitForHead(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if deadline == nil { waitForHead(context) }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    /// A request NIO could not parse (Content-Length with Transfer-Encoding, two lengths…)
    /// has been answered 400 with `Connection: close` by NIO's error handler, which leaves
    /// the closing to the pipeline: closed here, or it would wait for the header timeout
    /// while the client goes on sending.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let verified = event as? PeerVerified {
            peer = verified.identity
            if verified.identity.host != nil { connections.certified(context.channel) }
            revocationChecked = .now()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            deadline?.cancel()
            deadline = nil
            connections.busy(context.channel)
            metrics.request(onKeptConnection: answered)
            if let refusal = revocation() {
                answering = true
                return send(refusal, keepAlive: false, context)
            }
            if let refusal = routes.refusal(for: head) {
                // No route takes it: answered now, its body (if any) never read.
                answering = true
                return send(refusal, keepAlive: false, context)
            }
            self.head = head
            body.clear()
            let metrics = metrics
            closeLater(context, after: timeouts.request) { metrics.refused("request timeout") }
        case .body(var part):
            if head != nil { body.writeBuffer(&part) }
        case .end:
            guard let head else { return }
            self.head = nil
            deadline?.cancel()
            deadline = nil
            answering = true
            let request = CollectorRequest(head: head, body: body, peer: peer,
                                           remoteAddress: IPAddress(context.channel.remoteAddress))
            body = ByteBuffer()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            routes.answer(request, on: context.eventLoop).whenSuccess { reply in
                let (handler, context) = bound.value
                handler.send(reply, keepAlive: head.isKeepAlive, context)
            }
        }
    }

    /// 403 when the peer's certificate has been revoked since it was last looked up (a
    /// cached SQLite statement, on the event loop as at the handshake: the revocation is
    /// made in another process, so only the database knows it).
    private func revocation() -> Reply? {
        guard let peer, let serial = peer.serial else { return nil }
        // A connection kept alive past its certificate's end: the handshake's date check
        // is behind it. A comparison, so at every request.
        if let expired = peer.outOfValidity(at: Int64(Date().timeIntervalSince1970)) {
            metrics.refused("expired")
            return HTTPFailure(.forbidden, message: expired).reply
        }
        guard NIODeadline.now() - revocationChecked >= Self.revocationRecheck else { return nil }
        let standing = certificates.standing(serial)
        guard standing.isRefused else {
            revocationChecked = .now()
            return nil
        }
        if standing == .superseded {
            metrics.refused("superseded")
            routes.logger.warning("refused a request on a kept-alive connection: its certificate was renewed", metadata: [
                "event": "request_refused", "host": "\(peer.host ?? "?")", "serial": "\(serial)", "reason": "superseded"])
            return HTTPFailure(.forbidden, message: "certificate \(serial) of \(peer.host ?? "?") was renewed and its "
                               + "successor is in use: connect with the new certificate").reply
        }
        metrics.refused("revoked")
        routes.logger.warning("refused a request on a kept-alive connection: its certificate was revoked", metadata: [
            "event": "request_refused", "host": "\(peer.host ?? "?")", "serial": "\(serial)", "reason": "revoked"])
        return HTTPFailure(.forbidden, message: "certificate \(serial) of \(peer.host ?? "?") was revoked by the "
                           + "collector's operator; enroll this host again (portwarden-agent enroll)").reply
    }

    private func send(_ reply: Reply, keepAlive: Bool, _ context: ChannelHandlerContext) {
        answering = false
        answered = true
        var headers = reply.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.readableBytes))
        if keepAlive {
            headers.replaceOrAdd(name: "Keep-Alive", value: keepsLong ? keepAliveHeaders.host : keepAliveHeaders.anonymous)
        } else {
            headers.replaceOrAdd(name: "Connection", value: "close")
        }
        // A client that does not read its answer holds the write (and, with back-pressure,
        // its connection): bounded as a request is.
        let metrics = metrics
        closeLater(context, after: timeouts.request) { metrics.refused("answer not read") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))),
                      promise: nil)
        if reply.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            let (handler, context) = bound.value
            if keepAlive { handler.waitForNextHead(context) } else { context.close(promise: nil) }
        }
    }

    private func waitForHead(_ context: ChannelHandlerContext) {
        // A pipelined request may have begun while the last reply was being written.
        guard head == nil, !answering else { return }
        closeLater(context, after: timeouts.header) {}
    }

    /// Whether the connection is kept `keepAlive` between requests: a host's. One without
    /// a fleet certificate (enrollment) is kept `Timeouts.stranger`.
    private var keepsLong: Bool { peer?.host != nil }

    /// After an answer: idle until the next head.
    private func waitForNextHead(_ context: ChannelHandlerContext) {
        guard head == nil, !answering else { return }
        connections.idle(context.channel)
        let metrics = metrics
        if keepsLong {
            closeLater(context, after: timeouts.keepAlive) { metrics.idleClosed(.keepaliveTimeout) }
        } else {
            closeLater(context, after: timeouts.stranger) {}
        }
    }

    private func closeLater(_ context: ChannelHandlerContext, after delay: TimeAmount, counting: @escaping @Sendable () -> Void) {
        deadline?.cancel()
        let bound = context.loopBound
        deadline = context.eventLoop.scheduleTask(in: delay) {
            counting()
            bound.value.close(promise: nil)
        }
    }
}
