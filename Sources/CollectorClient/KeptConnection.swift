import Glibc
import OpenSSLTLS
import Synchronization

/// The connection an agent's last report went on, kept open for its next one: a report
/// on it costs the collector one HTTP request, not a TCP connection and a TLS handshake
/// — what an unchanged report cost before (see docs/SCALING.md). Reports only: they are
/// idempotent (the collector takes a sequence once), so one that meets a connection the
/// collector has closed meanwhile is sent again on a new one.
///
/// A connection is not offered again once the collector has closed it (the descriptor
/// reads end of file, or anything: nothing is due between requests) or it has been idle
/// longer than the collector said it keeps one (`Keep-Alive: timeout=N`), less a margin
/// for the clocks and the wire.
///
/// A connection given up is always shut down (`close()`, a close_notify) before it is
/// freed: OpenSSL marks the session of a connection freed without one not resumable —
/// and that session is the one `SessionCache` offers next, so the next connection would
/// be a full handshake.
public final class KeptConnection: Sendable {
    private struct Kept {
        let socket: TLSSocket
        let since: ContinuousClock.Instant
        /// How long the collector said it keeps an idle connection; nil: it did not say.
        let keptFor: Duration?
    }

    private let kept = Mutex<Kept?>(nil)
    private let carrier = Mutex<Carrier?>(nil)

    /// What carried a report to the collector: what the agent's log says it cost, from
    /// the cheapest to the dearest.
    public enum Carrier: String, Sendable, Comparable, CustomStringConvertible {
        /// The connection the last report left open: one HTTP request.
        case kept
        /// A new connection resuming the TLS session: one round trip more.
        case resumed
        /// A new connection and a full handshake (the first, or the session was lost: a
        /// collector restarted, the session an hour old, another collector).
        case full

        public static func < (a: Carrier, b: Carrier) -> Bool { a.cost < b.cost }

        private var cost: Int {
            switch self {
            case .kept: 0
            case .resumed: 1
            case .full: 2
            }
        }

        /// As the agent's log says it.
        public var description: String {
            switch self {
            case .kept: "the connection the report before left open"
            case .resumed: "a new connection resuming the TLS session"
            case .full: "a new connection with a full TLS handshake"
            }
        }
    }

    /// The dearest carrier of the reports answered since the last call, nil when none
    /// was: a cycle that delivered a spool after an outage says `full`, though its later
    /// reports went on the connection its first one opened.
    public func dearestCarrier() -> Carrier? { carrier.withLock { carrier in defer { carrier = nil }; return carrier } }

    /// How long before the collector's stated idle timeout a connection is no longer
    /// offered, so a report rarely races the collector's own close (and when it does, it
    /// goes again on a new connection): 5 s, at most a tenth of the timeout.
    static func margin(_ keptFor: Duration) -> Duration { min(.seconds(5), keptFor / 10) }

    public init() {}

    /// The kept connection, when it is still usable; it is no longer kept (a caller
    /// that is answered keeps it again).
    func take() -> TLSSocket? {
        guard let kept = kept.withLock({ kept in defer { kept = nil }; return kept }) else { return nil }
        let fresh = kept.keptFor.map { ContinuousClock.now - kept.since < $0 - Self.margin($0) } ?? true
        guard fresh, Self.isQuiet(kept.socket.fd) else {
            kept.socket.close()
            return nil
        }
        return kept.socket
    }

    /// Keeps `socket` for the next report when `response` left it open; closes it
    /// otherwise. `wasKept`: the report went on the connection this kept.
    func keep(_ socket: TLSSocket, after response: HTTPResponse, wasKept: Bool) {
        let now: Carrier = wasKept ? .kept : socket.sessionReused ? .resumed : .full
        carrier.withLock { $0 = max($0 ?? now, now) }
        guard !response.closesConnection else {
            socket.close()
            return
        }
        let keptFor = response.keepAliveTimeout.map { Duration.seconds($0) }
        let replaced = kept.withLock { kept in defer { kept = Kept(socket: socket, since: .now, keptFor: keptFor) }; return kept }
        replaced?.socket.close()
    }

    /// Closes the kept connection, if any (a new certificate, or a full handshake on purpose).
    public func drop() { kept.withLock { kept in defer { kept = nil }; return kept }?.socket.close() }

    deinit { kept.withLock { $0 }?.socket.close() }

    /// Whether nothing waits to be read on `fd` and the peer has not hung up: an idle
    /// HTTP connection has nothing due from the server, so anything at all (end of file,
    /// a close_notify, an error) means it is not to be used again.
    private static func isQuiet(_ fd: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }
}
