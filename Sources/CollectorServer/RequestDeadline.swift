import NIOCore
import NIOHTTP1

/// Closes a connection whose request, once its head has arrived, is not complete within
/// `limit`: an agent dripping a body a byte at a time cannot hold a connection (and a
/// slot of the event loop's attention) for ever. The wait for a head is bounded by the
/// request handler's header timeout.
final class RequestDeadline: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    let limit: TimeAmount
    let metrics: CollectorMetrics
    private var timer: Scheduled<Void>?

    init(limit: TimeAmount, metrics: CollectorMetrics) {
        self.limit = limit
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            timer?.cancel()
            let bound = context.loopBound
            let metrics = metrics
            timer = context.eventLoop.scheduleTask(in: limit) {
                metrics.refused("request timeout")
                bound.value.close(promise: nil)
            }
        case .end:
            timer?.cancel()
            timer = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }
}
