import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Bounds every request body. A Content-Length over the limit is refused as soon as the
/// head arrives; a body without one (chunked) is refused once it has run past the limit.
/// Either way: 413, the connection is closed, and no more is read — a 100 MB body costs
/// the collector at most `limit` bytes of reading, never 100 MB of memory.
final class BodyLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    let limit: Int
    let metrics: CollectorMetrics?
    /// Body bytes of the request being read.
    private var received = 0
    /// Set once a request is refused: the rest of what the client sends is dropped.
    private var refused = false

    init(limit: Int, metrics: CollectorMetrics?) {
        self.limit = limit
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            received = 0
            if let declared = head.headerFields[.contentLength].flatMap(Int.init), declared > limit {
                return refuse(context, "a request body is at most \(limit) bytes; this one declares \(declared)")
            }
        case .body(let part):
            received += part.readableBytes
            if received > limit { return refuse(context, "a request body is at most \(limit) bytes") }
        case .end:
            received = 0
        }
        context.fireChannelRead(data)
    }

    private func refuse(_ context: ChannelHandlerContext, _ reason: String) {
        refused = true
        metrics?.refused("too_large")
        let message = reason + "\n"
        let response = HTTPResponse(status: .contentTooLarge, headerFields: [
            .connection: "close", .contentType: "text/plain; charset=utf-8", .contentLength: "\(message.utf8.count)",
        ])
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(string: message))), promise: nil)
        let bound = context.loopBound
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
