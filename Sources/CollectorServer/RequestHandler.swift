import NIOCore
import NIOHTTP1
import PortwardenModel

/// Serves a connection's requests one at a time (NIO's pipelining handler holds the next
/// back until this one is answered): gathers the head and body, has the routes answer,
/// writes the reply, and keeps the connection for another request unless either side
/// asked to close. One timer bounds the waiting: a connection that goes `headerTimeout`
/// without a request head (from connecting, the TLS handshake included, and between
/// requests) is closed, and so is one whose request is not whole `requestTimeout` after
/// its head — an agent dripping a body a byte at a time cannot hold a connection.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: Routes
    private let headerTimeout: TimeAmount
    private let requestTimeout: TimeAmount
    private let metrics: CollectorMetrics
    private var peer: PeerIdentity?
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    /// A whole request is with the routes and not yet answered.
    private var answering = false
    /// Closes the connection when the head or the rest of the request is late.
    private var deadline: Scheduled<Void>?

    init(routes: Routes, headerTimeout: TimeAmount, requestTimeout: TimeAmount, metrics: CollectorMetrics) {
        self.routes = routes
        self.headerTimeout = headerTimeout
        self.requestTimeout = requestTimeout
        self.metrics = metrics
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

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let verified = event as? PeerVerified { return peer = verified.identity }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            deadline?.cancel()
            deadline = nil
            if let refusal = routes.refusal(for: head) {
                // No route takes it: answered now, its body (if any) never read.
                answering = true
                return send(refusal, keepAlive: false, context)
            }
            self.head = head
            body.clear()
            let metrics = metrics
            closeLater(context, after: requestTimeout) { metrics.refused("request timeout") }
        case .body(var part):
            if head != nil { body.writeBuffer(&part) }
        case .end:
            guard let head else { return }
            self.head = nil
            deadline?.cancel()
            deadline = nil
            answering = true
            let request = CollectorRequest(head: head, body: body, peer: peer,
                                           remoteAddress: context.channel.remoteAddress?.ipAddress.flatMap(IPAddress.init))
            body = ByteBuffer()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            routes.answer(request, on: context.eventLoop).whenSuccess { reply in
                let (handler, context) = bound.value
                handler.send(reply, keepAlive: head.isKeepAlive, context)
            }
        }
    }

    private func send(_ reply: Reply, keepAlive: Bool, _ context: ChannelHandlerContext) {
        answering = false
        var headers = reply.headers
        headers.replaceOrAdd(name: "Content-Length", value: String(reply.body.readableBytes))
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: reply.status, headers: headers))),
                      promise: nil)
        if reply.body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil) }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            let (handler, context) = bound.value
            if keepAlive { handler.waitForHead(context) } else { context.close(promise: nil) }
        }
    }

    private func waitForHead(_ context: ChannelHandlerContext) {
        // A pipelined request may have begun while the last reply was being written.
        guard head == nil, !answering else { return }
        closeLater(context, after: headerTimeout) {}
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
