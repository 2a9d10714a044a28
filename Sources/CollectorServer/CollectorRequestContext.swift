import Hummingbird

/// A request's context: Hummingbird's core storage and who sent it, from the TLS layer.
public struct CollectorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The verified client certificate's identity; nil without one.
    public let peer: PeerIdentity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peer = PeerRegistry.shared.identity(of: source.channel)
    }

    /// A 3,000-listener snapshot is about 2 MB of JSON; anything far larger is refused.
    public var maxUploadSize: Int { 16 << 20 }
}
