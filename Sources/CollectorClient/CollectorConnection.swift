import OpenSSLTLS
import Synchronization

/// Requests to the collector over mutual TLS, blocking: all an agent needs, without an
/// event loop. One connection a request, except reports when `kept` is set.
public struct CollectorConnection: Sendable {
    public let host: String
    public let port: UInt16
    public let context: TLSContext
    /// The name the collector's certificate must carry (default: `host`).
    public let serverName: String?
    public let timeout: Int
    /// When set, each connection offers the session the previous one got, skipping the
    /// full handshake (an agent reporting every minute resumes; nil: full every time).
    public let sessions: SessionCache?
    /// When set, reports go on the connection the last one went on, while the collector
    /// keeps it open (an agent's `run`); nil: a connection a request, closed after it.
    public let kept: KeptConnection?

    public init(host: String, port: UInt16, context: TLSContext, serverName: String? = nil, timeout: Int = 30,
                sessions: SessionCache? = nil, kept: KeptConnection? = nil) {
        self.host = host
        self.port = port
        self.context = context
        self.serverName = serverName
        self.timeout = timeout
        self.sessions = sessions
        self.kept = kept
    }

    /// `host:port` as agent.yaml writes it (`[v6addr]:port` for an IPv6 address): how logs name a collector.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// `POST path` with `body`; the response whatever its status. On the kept connection
    /// when there is one (`kept`).
    public func post(_ path: String, body: [UInt8], contentType: String = "application/json",
                     extraHeaders: [String: String] = [:]) throws -> HTTPResponse {
        var headers = extraHeaders
        headers["Content-Type"] = contentType
        let request = Request(method: "POST", path: path, body: body, headers: headers)
        return try converse { socket in
            let answer = try send(request, on: socket, keepAlive: kept != nil)
            return (answer, answer)
        }
    }

    public func get(_ path: String) throws -> HTTPResponse {
        try exchange("GET", path, body: [], headers: [:]).response
    }

    /// `POST path` with `body`; when the answer's status is one of `statuses`, `POST` the
    /// second request on the same connection (a new one if the collector closed it) — an
    /// unchanged report the collector cannot place, followed at once by the snapshot in
    /// full. The last response, and whether the second request was sent.
    public func post(_ path: String, body: [UInt8], otherwise second: (path: String, body: [UInt8]),
                     on statuses: Set<Int>) throws -> (response: HTTPResponse, second: Bool) {
        let first = Request(method: "POST", path: path, body: body, headers: ["Content-Type": "application/json"])
        let then = Request(method: "POST", path: second.path, body: second.body, headers: ["Content-Type": "application/json"])
        return try converse { socket in
            let answer = try send(first, on: socket, keepAlive: true)
            guard statuses.contains(answer.status) else { return ((answer, false), kept == nil ? nil : answer) }
            // A server may close a kept-alive connection whenever it likes: then on a new one.
            // Sent twice at worst, it is a redelivery the collector acknowledges as a duplicate.
            if !answer.closesConnection,
               let full = try? send(then, on: socket, keepAlive: kept != nil) {
                return ((full, true), full)
            }
            let full = try converse { socket in
                let full = try send(then, on: socket, keepAlive: kept != nil)
                return (full, full)
            }
            return ((full, true), nil)
        }
    }

    /// `requests` on one connection — the kept one while the collector holds it, else a
    /// new one — which is kept afterwards when `kept` is set and the last answer they
    /// return left it open (nil: not to be kept). A kept connection that fails before its
    /// answers are read (the collector closed it as the request went out) is given up and
    /// the requests go once more on a new one: reports are idempotent. So are they after
    /// a 403 on a kept connection: the certificate it was made with may have been renewed
    /// (by `renew --force` beside `run`) or revoked since, and a new connection's
    /// handshake says which — an answer about the connection, not about the report.
    private func converse<T>(_ requests: (TLSSocket) throws -> (value: T, last: HTTPResponse?)) throws -> T {
        if let kept, let socket = kept.take() {
            if let done = try? requests(socket), done.last?.status != 403 {
                if let last = done.last { kept.keep(socket, after: last, wasKept: true) } else { socket.close() }
                return done.value
            }
            socket.close()
        }
        let socket = try connect()
        defer { remember(socket) }
        let done = try requests(socket)
        if let kept, let last = done.last { kept.keep(socket, after: last, wasKept: false) } else { socket.close() }
        return done.value
    }

    /// One request; the response whatever its status, and the certificate the collector
    /// presented on the connection (verified against the context's CAs): what an agent
    /// checks a CA bundle or a certificate it is handed against.
    public func exchange(_ method: String, _ path: String, body: [UInt8] = [],
                         headers: [String: String] = [:]) throws -> (response: HTTPResponse, server: Certificate?) {
        try exchange(Request(method: method, path: path, body: body, headers: headers))
    }

    private struct Request {
        let method: String
        let path: String
        let body: [UInt8]
        let headers: [String: String]
    }

    private func exchange(_ request: Request) throws -> (response: HTTPResponse, server: Certificate?) {
        let socket = try connect()
        defer { remember(socket) }
        let response = try send(request, on: socket, keepAlive: false)
        socket.close()
        return (response, socket.peerCertificate)
    }

    private func connect() throws -> TLSSocket {
        do {
            return try TLSSocket.connect(host: host, port: port, context: context, serverName: serverName,
                                         session: sessions?.session, timeout: timeout)
        } catch let error as TLSError where error.peerUnverified {
            throw RequestFailed(reached: false, reason: """
                \(error): this host does not trust the collector's certificate; check the CA file (the collector's \
                ca.pem, --ca-file) and that the name connected to (--collector, or server_name) is one the collector's \
                certificate carries (portwarden ca list)
                """, untrusted: true)
        } catch {
            throw RequestFailed(reached: false, reason: "\(error)")
        }
    }

    /// The session the connection got, offered by the next.
    private func remember(_ socket: TLSSocket) {
        if let sessions, let session = socket.session { sessions.session = session }
    }

    /// Writes `request` and reads its answer; the socket stays open.
    private func send(_ request: Request, on socket: TLSSocket, keepAlive: Bool) throws -> HTTPResponse {
        var head = "\(request.method) \(request.path) HTTP/1.1\r\nHost: \(host)\r\n"
        head += "Content-Length: \(request.body.count)\r\n" + (keepAlive ? "" : "Connection: close\r\n")
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        // A collector that refuses a body (413) answers and closes while it is still being
        // written: the write fails, but the answer is in the socket. Read it either way.
        var writeFailure: (any Error)?
        do {
            // One write: a head written alone waits on the server's delayed ACK (Nagle).
            try socket.write(Array(head.utf8) + request.body)
        } catch {
            writeFailure = error
        }
        do {
            return try HTTPResponse.read(from: socket)
        } catch {
            socket.close()
            // The read's error carries the peer's alert ("certificate expired") when there was
            // one. A collector that closed before it finished the handshake never read the
            // request: not on the wire (a collector at its cap, making room for a newcomer).
            throw RequestFailed(reached: socket.serverCompletedHandshake,
                                reason: writeFailure.map { "\($0), and no answer could be read: \(error)" } ?? "\(error)")
        }
    }
}

/// A request that got no answer. `reached`: the connection and handshake succeeded (the
/// server's side too), so the failure came while this request was on the wire — possibly
/// because of it.
public struct RequestFailed: Error, CustomStringConvertible, Sendable {
    public let reached: Bool
    public let reason: String
    /// The collector's certificate did not verify here: a wrong CA file or name, which
    /// waiting does not fix (exit 3, not 75).
    public var untrusted = false
    public var description: String { reason }

    public init(reached: Bool, reason: String, untrusted: Bool = false) {
        self.reached = reached
        self.reason = reason
        self.untrusted = untrusted
    }
}

/// The last TLS session a connection got, to offer on the next.
public final class SessionCache: Sendable {
    private let stored = Mutex<TLSSession?>(nil)

    public init() {}

    public var session: TLSSession? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
