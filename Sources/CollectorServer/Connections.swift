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
/// A connection kept open between an agent's reports (idle after at least one answer)
/// gives way to a new one: at either cap the one idle longest is closed and the new one
/// admitted, so kept connections never lock a fleet out — its agent reconnects with a
/// resumed session at its next report. Idle connections without a fleet certificate go
/// first: strangers asking something every second cannot make hosts' connections the
/// ones idle longest.
///
/// Nor can strangers that never finish — a handshake or a request head dripped until its
/// timeout, from many addresses or from the hosts' own (a NAT) — hold a cap and lock the
/// fleet out. At the total cap a new connection is admitted in place of, in this order:
/// 1. the stranger idle longest;
/// 2. the stranger open longest, once it has had `strangerGrace` (an agent's handshake
///    takes milliseconds, so it is a host well before);
/// 3. the stranger open longest that has sent nothing yet (an agent sends its
///    ClientHello as it connects; a bare TCP flood never does);
/// 4. while strangers hold more than half the cap (a flood, not a fleet reconnecting),
///    the stranger open longest: hosts keep their idle connections through a flood;
/// 5. the host idle longest (it reconnects at its next report);
/// 6. the stranger open longest, however young.
/// A newcomer is itself a stranger until its certificate is verified, and the newest
/// one: a flood that speaks TLS must open `max_connections` connections — each costing
/// the collector a handshake's work — within an agent's handshake to push it out. At the
/// per-address cap steps 1, 2 and 5 apply among that source's connections: a flood from
/// one address is still turned away unread, at no cost, while its connections are
/// young, and its hosts get in once they are not. Only hosts' connections in the middle
/// of a request are never closed to make room.
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
    /// How long a connection without a fleet certificate is spared before an idle host's:
    /// ample for a handshake, short beside `handshake_timeout` and `header_timeout`.
    static let strangerGrace = TimeAmount.seconds(2)

    /// Which connection made room for a new one at a cap, for `/metrics`.
    enum GaveWay {
        /// A host's, idle between its reports (`IdleClose.gaveWay`): it reconnects at its next.
        case host
        /// One without a fleet certificate: idle, in its handshake, or in a request.
        case stranger
    }

    private struct State {
        var limits: ConnectionLimits
        /// `admission`: its number in the order of admission; `spoke`: a byte of it was
        /// read (`spoke(_:)`); `host`: its fleet certificate was verified (`certified`),
        /// until then a stranger.
        var open: [ObjectIdentifier: (channel: any Channel, source: IPAddress?, admitted: NIODeadline, admission: UInt64,
                                      spoke: Bool, host: Bool)] = [:]
        /// Of `open`, hosts' connections.
        var hosts = 0
        /// Connections in the order they were admitted, in all and by source, for the
        /// stranger open longest. Entries since certified or closed are skipped when met
        /// and compacted as in `idleOrders`; the number tells a closed connection's entry
        /// from a new connection's whose channel took the same address.
        var admissions = CircularBuffer<(id: ObjectIdentifier, admission: UInt64)>()
        var admissionsBySource: [IPAddress?: CircularBuffer<(id: ObjectIdentifier, admission: UInt64)>] = [:]
        /// As `admissions`, those that have sent nothing yet (entries that since spoke are stale).
        var silent = CircularBuffer<(id: ObjectIdentifier, admission: UInt64)>()
        var admitted: UInt64 = 0
        /// Open connections by source (`IPAddress.source`); nil: a peer without an address.
        var bySource: [IPAddress?: Int] = [:]
        /// Connections idle between requests, by when they became so (a number that only
        /// grows); `idleOrders` holds them oldest first — those without a fleet
        /// certificate, then hosts' — and entries since taken or renumbered, skipped when
        /// met. `idleBySource` counts them by source, so a source at its cap with none
        /// idle is refused without a look through the queues.
        var idle: [ObjectIdentifier: UInt64] = [:]
        var idleOrders = [CircularBuffer<(id: ObjectIdentifier, mark: UInt64)>](repeating: [], count: 2)
        var idleBySource: [IPAddress?: Int] = [:]
        var marks: UInt64 = 0
        /// Every accepted socket, admitted or not, until it is closed.
        var held = 0
        /// The listener is not accepting (changed on its event loop only).
        var paused = false
        var stopping = false

        /// Whether the listener may accept more.
        var accepting: Bool { held < limits.total + Connections.refusalsInFlight }

        /// The connection idle longest — from `source` only, when given; of `queues` (0:
        /// strangers', 1: hosts') in that order — no longer counted as open: the caller closes it.
        mutating func evictIdle(from source: IPAddress?? = nil, queues: [Int] = [0, 1]) -> (any Channel)? {
            if let source, idleBySource[source, default: 0] == 0 { return nil }
            for queue in queues {
                var position = idleOrders[queue].startIndex
                while position < idleOrders[queue].endIndex {
                    let (id, mark) = idleOrders[queue][position]
                    guard idle[id] == mark, let connection = open[id] else {
                        // Stale: dropped when at the front, skipped elsewhere (`idle(_:)` compacts).
                        if position == idleOrders[queue].startIndex {
                            idleOrders[queue].removeFirst()
                            position = idleOrders[queue].startIndex
                        } else {
                            position = idleOrders[queue].index(after: position)
                        }
                        continue
                    }
                    if let source, connection.source != source {
                        position = idleOrders[queue].index(after: position)
                        continue
                    }
                    idleOrders[queue].remove(at: position)
                    remove(id)
                    return connection.channel
                }
            }
            return nil
        }

        /// The connection without a fleet certificate open longest — from `source` only,
        /// when given; of those that have sent nothing, when `silent` — when it was admitted
        /// before `cutoff` (any, without one), no longer counted as open: the caller closes it.
        mutating func evictStranger(from source: IPAddress?? = nil, silent silentOnly: Bool = false,
                                    admittedBefore cutoff: NIODeadline?) -> (any Channel)? {
            func oldest(_ queue: inout CircularBuffer<(id: ObjectIdentifier, admission: UInt64)>) -> ObjectIdentifier? {
                while let (id, admission) = queue.first {
                    guard let connection = open[id], connection.admission == admission, !connection.host,
                          !(silentOnly && connection.spoke) else {
                        queue.removeFirst()
                        continue
                    }
                    if let cutoff, connection.admitted >= cutoff { return nil }
                    return id
                }
                return nil
            }
            let found: ObjectIdentifier?
            if let source {
                guard var queue = admissionsBySource.removeValue(forKey: source) else { return nil }
                found = oldest(&queue)
                admissionsBySource[source] = queue
            } else if silentOnly {
                found = oldest(&silent)
            } else {
                found = oldest(&admissions)
            }
            guard let id = found, let connection = open[id] else { return nil }
            remove(id)  // its entries in the queues are skipped from now on
            return connection.channel
        }

        /// The connection to close for a newcomer at a cap — among `source`'s only, at the
        /// per-address cap, where young strangers stay — in the order the type's comment
        /// gives, and which kind it was; nil when there is none to close.
        mutating func makeRoom(from source: IPAddress?? = nil, now: NIODeadline) -> (any Channel, GaveWay)? {
            if let idle = evictIdle(from: source, queues: [0]) { return (idle, .stranger) }
            if let stranger = evictStranger(from: source, admittedBefore: now - Connections.strangerGrace) { return (stranger, .stranger) }
            if source == nil {
                if let stranger = evictStranger(silent: true, admittedBefore: nil) { return (stranger, .stranger) }
                if 2 * (open.count - hosts) > limits.total, let stranger = evictStranger(admittedBefore: nil) {
                    return (stranger, .stranger)
                }
            }
            if let idle = evictIdle(from: source, queues: [1]) { return (idle, .host) }
            if source == nil, let stranger = evictStranger(admittedBefore: nil) { return (stranger, .stranger) }
            return nil
        }

        /// `id` is not idle (busy again, or about to be removed).
        mutating func notIdle(_ id: ObjectIdentifier) {
            guard idle.removeValue(forKey: id) != nil, let connection = open[id] else { return }
            let left = idleBySource[connection.source, default: 1] - 1
            idleBySource[connection.source] = left > 0 ? left : nil
        }

        /// `id` is no longer open.
        mutating func remove(_ id: ObjectIdentifier) {
            notIdle(id)
            guard let connection = open.removeValue(forKey: id) else { return }
            if connection.host { hosts -= 1 }
            let left = bySource[connection.source, default: 1] - 1
            bySource[connection.source] = left > 0 ? left : nil
            if left <= 0 { admissionsBySource[connection.source] = nil }
        }
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

    /// How many are open now, and of those idle between requests, for `/metrics`.
    var count: Int { state.withLock { $0.open.count } }
    var idleCount: Int { state.withLock { $0.idle.count } }

    /// `channel` has been answered and waits for its next request: it may give way to a
    /// new connection — before hosts' when it has no fleet certificate (`certified`).
    func idle(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { state in
            guard let connection = state.open[id] else { return }
            state.marks += 1
            if state.idle.updateValue(state.marks, forKey: id) == nil { state.idleBySource[connection.source, default: 0] += 1 }
            let queue = connection.host ? 1 : 0
            state.idleOrders[queue].append((id, state.marks))
            // Entries left by connections that became busy again: bounded by the live ones.
            if state.idleOrders[queue].count > 2 * state.idle.count + 64 {
                state.idleOrders[queue] = CircularBuffer(state.idleOrders[queue].filter { state.idle[$0.id] == $0.mark })
            }
        }
    }

    /// `channel` presented a verified fleet certificate: a host's connection from now on,
    /// never closed to make room while a request is under way on it.
    func certified(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { state in
            guard state.open[id]?.host == false else { return }
            state.open[id]?.host = true
            state.hosts += 1
        }
    }

    /// A first byte of `channel` was read: an agent's ClientHello, sent as it connects.
    func spoke(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.open[id]?.spoke = true }
    }

    /// `channel` has a request under way: it stays.
    func busy(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.notIdle(id) }
    }

    /// Called on `listener`'s event loop as it accepts `child`: tracks it until it closes,
    /// or says why it may not stay (the caller closes it, unread). At a cap a connection
    /// gives way when one may (the type's comment says which; `gaveWay` is told which
    /// kind). Pauses accepting while too many refused sockets wait to be closed.
    func admit(_ child: any Channel, acceptedBy listener: any Channel, gaveWay: (GaveWay) -> Void = { _ in }) -> ConnectionRefusal? {
        let id = ObjectIdentifier(child)
        let source = IPAddress(child.remoteAddress)?.source
        let now = NIODeadline.now()
        let (refusal, pause, evicted) = state.withLock { state -> (ConnectionRefusal?, Bool, (any Channel, GaveWay)?) in
            state.held += 1
            let pause = !state.accepting && !state.paused
            if state.stopping { return (.stopping, pause, nil) }
            var evicted: (any Channel, GaveWay)?
            if state.bySource[source, default: 0] >= state.limits.perAddress {
                guard let room = state.makeRoom(from: .some(source), now: now) else { return (.perAddress, pause, nil) }
                evicted = room
            } else if state.open.count >= state.limits.total {
                guard let room = state.makeRoom(now: now) else { return (.total, pause, nil) }
                evicted = room
            }
            state.admitted += 1
            let entry = (id: id, admission: state.admitted)
            state.open[id] = (child, source, now, state.admitted, false, false)
            state.bySource[source, default: 0] += 1
            // Entries left by certified and closed connections: bounded by the live ones.
            func live(_ entry: (id: ObjectIdentifier, admission: UInt64)) -> Bool {
                state.open[entry.id].map { $0.admission == entry.admission && !$0.host } ?? false
            }
            state.admissions.append(entry)
            if state.admissions.count > 2 * state.open.count + 64 {
                state.admissions = CircularBuffer(state.admissions.filter(live))
            }
            state.silent.append(entry)
            if state.silent.count > 2 * state.open.count + 64 {
                state.silent = CircularBuffer(state.silent.filter { live($0) && state.open[$0.id]?.spoke == false })
            }
            state.admissionsBySource[source, default: []].append(entry)
            if let queue = state.admissionsBySource[source], queue.count > 2 * state.bySource[source, default: 0] + 16 {
                state.admissionsBySource[source] = CircularBuffer(queue.filter(live))
            }
            return (nil, pause, evicted)
        }
        if let (channel, kind) = evicted {
            gaveWay(kind)
            channel.close(promise: nil)
        }
        if pause { gate(listener) }
        child.closeFuture.whenComplete { [self] _ in
            let resume = state.withLock { state in
                state.held -= 1
                if refusal == nil { state.remove(id) }
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
            return state.open.values.map(\.channel)
        }
        for channel in open { channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent()) }
        for channel in open { try? await channel.closeFuture.get() }
    }
}
