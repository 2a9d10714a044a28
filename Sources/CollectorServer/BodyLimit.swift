import CollectorStore
import Foundation
import NIOCore
import NIOHTTP1
import PortwardenModel

/// Bounds every request body. A Content-Length over the limit is refused as soon as the
/// head arrives; a body without one (chunked) is refused once it has run past the limit.
/// Either way: 413, the connection is closed, and no more is read — a 100 MB body costs
/// the collector at most `limit` bytes of reading, never 100 MB of memory. A client
/// without a fleet certificate can only be enrolling: its bodies are held to
/// `uncertifiedLimit`, so strangers cannot make the collector hold reports' worth each.
///
/// A request asking to upgrade the protocol (`Upgrade:`, h2c, websocket) is refused
/// the same way, 400 and closed: NIO's HTTP decoder stops parsing after such a request
/// and holds whatever follows for an upgrade handler this collector does not have — a
/// client could have it hold a gigabyte until the header timeout.
final class BodyLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let certifiedLimit: Int
    let uncertifiedLimit: Int
    let metrics: CollectorMetrics
    /// Where a fleet host's refused body is noted: the host shows as refusing.
    let refusals: RefusalLog?
    /// Set by the TLS handler's `PeerVerified`, before any request byte.
    private var limit: Int
    private var host: String?
    /// Body bytes of the request being read.
    private var received = 0
    /// Set once a request is refused: the rest of what the client sends is dropped.
    private var refused = false

    init(limit: Int, uncertifiedLimit: Int, metrics: CollectorMetrics, refusals: RefusalLog? = nil) {
        certifiedLimit = limit
        self.uncertifiedLimit = min(limit, uncertifiedLimit)
        self.limit = self.uncertifiedLimit
        self.metrics = metrics
        self.refusals = refusals
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let verified = event as? PeerVerified, let host = verified.identity.host {
            limit = certifiedLimit
            self.host = host
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            received = 0
            if head.headers.contains(name: "Upgrade") {
                metrics.refused("upgrade")
                return refuse(context, status: .badRequest, "this collector speaks HTTP/1.1 only: no protocol upgrade")
            }
            if let declared = head.headers.first(name: "Content-Length").flatMap(Int.init), declared > limit {
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
        metrics.refused("too_large")
        if let host {
            refusals?.refused(host: host, ReportRefusal(.tooLarge, reason), at: Int64(Date().timeIntervalSince1970))
        }
        refuse(context, status: .payloadTooLarge, reason)
    }

    /// Answers `status` with `reason`, closes the connection, and reads nothing more.
    private func refuse(_ context: ChannelHandlerContext, status: HTTPResponseStatus, _ reason: String) {
        refused = true
        let message = reason + "\n"
        var headers: HTTPHeaders = [
            "Connection": "close", "Content-Type": "text/plain; charset=utf-8", "Content-Length": "\(message.utf8.count)",
        ]
        // The limit, machine-readable: an agent trims its report to it and sends it again.
        if status == .payloadTooLarge { headers.add(name: WireLimits.reportLimitHeader, value: "\(limit)") }
        let response = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: message)))), promise: nil)
        let bound = context.loopBound
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
