import NIOCore
import PortwardenModel
import Synchronization

/// Why a connection is closed before its first request; the reason `/metrics` counts.
enum ConnectionRefusal: String, CaseIterable {
    /// `max_connections` are open: closed as accepted, never read.
    case total = "max_connections"
    /// `max_connections_per_address` are open from its source: closed as accepted, never read.
    case perAddress = "max_connections_per_address"
    /// No TLS handshake within `handshake_timeout`.
    case handshakeTimeout = "handshake_timeout"
    /// The collector is stopping.
    case stopping
}

/// The open connections: admitted within the caps (in all, and per source address), and
/// known so that stopping can ask each to finish its request and close (NIO's pipelining
/// handler acts on the quiesce event) and wait until all have.
///
/// Every accepted socket is counted until it is closed, refused ones too: a refused
/// socket is closed on its own event loop, which under a flood may be busy, and those
/// waiting there must not take the descriptors kept for the database and policy
/// reloads. The listener stops accepting (the kernel queues) while more than
/// `refusalsInFlight` beyond the total cap wait to be closed.
final class Connections: Sendable {
    /// Refused sockets that may wait to be closed before accepting pauses (plus the 4
    /// NIO accepts in one go); `ConnectionLimits.descriptorHeadroom` covers them.
    static let refusalsInFlight = 16

    private struct State {
        var limits: ConnectionLimits
        var open: [ObjectIdentifier: any Channel] = [:]
        /// Open connections by source (`IPAddress.source`); nil: a peer without an address.
        var bySource: [IPAddress?: Int] = [:]
        /// Every accepted socket, admitted or not, until it is closed.
        var held = 0
        /// The listener is not accepting (changed on its event loop only).
        var paused = false
        var stopping = false

        /// Whether the listener may accept more.
        var accepting: Bool { held < limits.total + Connections.refusalsInFlight }
    }

    private let state: Mutex<State>

    init(limits: ConnectionLimits = .defaults) {
        state = Mutex(State(limits: limits))
    }

    /// The caps in force; set once the descriptor limit is known, before the listener opens.
    var limits: ConnectionLimits {
        get { state.withLock { $0.limits } }
        set { state.withLock { $0.limits = newValue } }
    }

    /// How many are open now, for `/metrics`.
    var count: Int { state.withLock { $0.open.count } }

    /// Called on `listener`'s event loop as it accepts `child`: tracks it until it closes,
    /// or says why it may not stay (the caller closes it, unread). Pauses accepting while
    /// too many refused sockets wait to be closed.
    func admit(_ child: any Channel, acceptedBy listener: any Channel) -> ConnectionRefusal? {
        let id = ObjectIdentifier(child)
        let source = IPAddress(child.remoteAddress)?.source
        let (refusal, pause) = state.withLock { state -> (ConnectionRefusal?, Bool) in
            state.held += 1
            let pause = !state.accepting && !state.paused
            if state.stopping { return (.stopping, pause) }
            if state.open.count >= state.limits.total { return (.total, pause) }
            if state.bySource[source, default: 0] >= state.limits.perAddress { return (.perAddress, pause) }
            state.open[id] = child
            state.bySource[source, default: 0] += 1
            return (nil, pause)
        }
        if pause { gate(listener) }
        child.closeFuture.whenComplete { [self] _ in
            let resume = state.withLock { state in
                state.held -= 1
                if refusal == nil {
                    state.open.removeValue(forKey: id)
                    let left = state.bySource[source, default: 1] - 1
                    state.bySource[source] = left > 0 ? left : nil
                }
                return state.accepting && state.paused
            }
            if resume { listener.eventLoop.execute { self.gate(listener) } }
        }
        return refusal
    }

    /// On the listener's loop: accepts or not, as the count says now. A call queued before
    /// the count changed again only applies the current answer.
    private func gate(_ listener: any Channel) {
        let (change, accepting) = state.withLock { state in
            let accepting = state.accepting
            defer { state.paused = !accepting }
            return (state.paused == accepting, accepting)
        }
        if change { listener.setOption(ChannelOptions.autoRead, value: accepting).whenFailure { _ in } }
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
