import HummingbirdCore
import Logging
import NIOCore
import OpenSSLTLS

/// Wraps an HTTP child channel with TLS from the system OpenSSL, the way
/// `HummingbirdTLS.TLSChannel` wraps it with NIOSSL.
public struct OpenSSLChannel<BaseChannel: ServerChildChannel>: ServerChildChannel {
    public typealias Value = BaseChannel.Value

    let baseChannel: BaseChannel
    let context: TLSContext
    let metrics: CollectorMetrics?
    let isRevoked: @Sendable (String) -> Bool

    public init(_ baseChannel: BaseChannel, context: TLSContext,
                metrics: CollectorMetrics? = nil, isRevoked: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.baseChannel = baseChannel
        self.context = context
        self.metrics = metrics
        self.isRevoked = isRevoked
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(OpenSSLServerHandler(context: context, metrics: metrics, isRevoked: isRevoked))
        }.flatMap {
            baseChannel.setup(channel: channel, logger: logger)
        }
    }

    public func handle(value: BaseChannel.Value, logger: Logger) async {
        await baseChannel.handle(value: value, logger: logger)
    }
}

extension OpenSSLChannel: HTTPChannelHandler where BaseChannel: HTTPChannelHandler {
    public var responder: HTTPChannelHandler.Responder { baseChannel.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 over TLS terminated by the system OpenSSL.
    public static func openSSL(_ configuration: HTTP1Channel.Configuration = .init(), context: TLSContext,
                               metrics: CollectorMetrics? = nil,
                               isRevoked: @escaping @Sendable (String) -> Bool = { _ in false }) -> HTTPServerBuilder {
        .init { responder in
            OpenSSLChannel(HTTP1Channel(responder: responder, configuration: configuration), context: context,
                           metrics: metrics, isRevoked: isRevoked)
        }
    }
}
