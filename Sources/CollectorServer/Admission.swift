import NIOCore

/// On the listener's pipeline, ahead of NIO's accept handler: each socket is admitted or
/// closed the moment it is accepted, on the listener's event loop. A refused one is
/// never registered, so nothing it sent is read and no handler or TLS state is made for
/// it — the cheapest a connection can be turned away.
final class Admission: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let connections: Connections
    private let metrics: CollectorMetrics

    init(connections: Connections, metrics: CollectorMetrics) {
        self.connections = connections
        self.metrics = metrics
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        let metrics = metrics
        let gaveWay: (Connections.GaveWay) -> Void = { kind in
            switch kind {
            case .host: metrics.idleClosed(.gaveWay)
            case .stranger: metrics.strangerGaveWay()
            }
        }
        if let refusal = connections.admit(child, acceptedBy: context.channel, gaveWay: gaveWay) {
            metrics.connectionRefused(refusal)
            child.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }
}
