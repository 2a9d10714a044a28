import NIOCore
import NIOHTTP1
import PortwardenModel

/// What a route answers: a status, headers and a body (its length is added when sent).
struct Reply: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer

    static func text(_ text: String, status: HTTPResponseStatus = .ok) -> Reply {
        Reply(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: ByteBuffer(string: text))
    }

    static func json(_ bytes: some Sequence<UInt8>, status: HTTPResponseStatus = .ok) -> Reply {
        Reply(status: status, headers: ["Content-Type": "application/json"], body: ByteBuffer(bytes: bytes))
    }
}

/// A whole request as a route sees it: the head, the body gathered, and who sent it.
struct CollectorRequest: Sendable {
    let head: HTTPRequestHead
    let body: ByteBuffer
    /// The verified client certificate's identity; nil without one.
    let peer: PeerIdentity?
    /// The TCP peer's address (what enrollment limits and audits); nil when unknown.
    var remoteAddress: IPAddress? = nil

    var path: Substring { head.path }
}

extension HTTPRequestHead {
    /// The target without its query.
    var path: Substring { uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0] }
}
