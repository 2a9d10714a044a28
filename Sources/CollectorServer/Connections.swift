import NIOCore
import Synchronization

/// The open connections, so that stopping can ask each to finish its request and close
/// (NIO's pipelining handler acts on the quiesce event) and wait until all have.
final class Connections: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var stopping = false
    }

    private let state = Mutex(State())

    /// How many are open now, for `/metrics`.
    var count: Int { state.withLock { $0.open.count } }

    /// Tracks `channel` until it closes; false once stopping has begun (refuse it).
    func admit(_ channel: any Channel) -> Bool {
        let admitted = state.withLock { state in
            if !state.stopping { state.open[ObjectIdentifier(channel)] = channel }
            return !state.stopping
        }
        if admitted {
            channel.closeFuture.whenComplete { [self] _ in
                _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
            }
        }
        return admitted
    }

    /// Asks every connection to close once its request in flight is answered; returns
    /// when all are closed.
    func quiesce() async {
        let open = state.withLock { state in
            state.stopping = true
            return Array(state.open.values)
        }
        for channel in open { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        for channel in open { try? await channel.closeFuture.get() }
    }
}
