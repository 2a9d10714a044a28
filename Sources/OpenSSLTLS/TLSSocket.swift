import COpenSSL
import Glibc

/// A blocking TLS connection on a socket: the agent's client, and the simple server side
/// the tests use. OpenSSL reads and writes the descriptor itself.
public final class TLSSocket: TLSEndpoint, @unchecked Sendable {
    public let fd: Int32

    /// An SSL on `fd`, which it owns from here (closed on failure too).
    private init(taking fd: Int32, context: TLSContext) throws(TLSError) {
        guard let ssl = SSL_new(context.pointer) else {
            Glibc.close(fd)
            throw TLSError("SSL_new")
        }
        self.fd = fd
        super.init(ssl: ssl)
        SSL_set_fd(ssl, fd)
    }

    deinit { Glibc.close(fd) }  // SSL_free follows, in TLSEndpoint

    /// Connects to `host:port` over TCP and completes the handshake, verifying the
    /// server's certificate names `serverName` (default: `host`).
    public static func connect(host: String, port: UInt16, context: TLSContext, serverName: String? = nil,
                               session: TLSSession? = nil, timeout: Int = 10) throws(TLSError) -> TLSSocket {
        let socket = try TLSSocket(taking: TCP.connect(host: host, port: port, timeout: timeout), context: context)
        try socket.expect(serverName ?? host)
        if let session { SSL_set_session(socket.ssl, session.pointer) }
        guard SSL_connect(socket.ssl) == 1 else { throw socket.failure("TLS handshake with \(host):\(port)") }
        return socket
    }

    /// The server side of a connection already accepted on `fd` (which it takes over).
    public static func accept(fd: Int32, context: TLSContext, timeout: Int = 10) throws(TLSError) -> TLSSocket {
        TCP.setTimeouts(fd, seconds: timeout)
        let socket = try TLSSocket(taking: fd, context: context)
        guard SSL_accept(socket.ssl) == 1 else { throw socket.failure("TLS handshake") }
        return socket
    }

    /// Up to `limit` bytes of plaintext; empty when the peer has closed.
    public func read(upTo limit: Int = 16 << 10) throws(TLSError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: limit)
        let n = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
        if n > 0 { return Array(buffer.prefix(Int(n))) }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_ZERO_RETURN: return []
        case SSL_ERROR_SYSCALL where errno == 0: return []  // closed without close_notify
        default: throw failure("TLS read")
        }
    }
}

/// Plain TCP, for the TLS socket and for servers that hand accepted fds to it.
public enum TCP {
    /// A peer that closes first turns our next write into SIGPIPE, which would kill the
    /// process; Linux has no per-socket opt-out that OpenSSL's socket BIO uses, so the
    /// signal is ignored (as NIO does) and the write fails with EPIPE instead.
    private static let sigpipeIgnored: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// A connected TCP socket to `host:port` (a name or an address literal).
    public static func connect(host: String, port: UInt16, timeout: Int) throws(TLSError) -> Int32 {
        sigpipeIgnored
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let list else {
            throw TLSError("resolving \(host)", detail: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = 0
        var entry: UnsafeMutablePointer<addrinfo>? = list
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errno; continue }
            setTimeouts(fd, seconds: timeout)
            // Every write is a whole message (a handshake flight, a request's head and body
            // together): nothing to gain from Nagle, and a request written after a resumed
            // handshake would wait for the server's delayed ACK (~40 ms a report).
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            close(fd)
        }
        throw TLSError("connecting to \(host):\(port)", detail: String(cString: strerror(lastError)))
    }

    /// Bounds every blocking read and write, so a silent peer cannot hang us.
    public static func setTimeouts(_ fd: Int32, seconds: Int) {
        var value = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}
