import COpenSSL

/// One TLS connection driven through memory buffers: the owner moves ciphertext between
/// the network and `feed`/`takeOutput`, and plaintext through `read`/`write`. An event
/// loop (or a test) decides when bytes move; OpenSSL never touches a socket.
public final class TLSConnection: TLSEndpoint, @unchecked Sendable {
    private let input: OpaquePointer   // BIO* OpenSSL reads ciphertext from
    private let output: OpaquePointer  // BIO* OpenSSL writes ciphertext to

    /// A connection for `context`; a client names the server it expects (`serverName`,
    /// a DNS name or IP address checked against the certificate) and may offer a session.
    public init(context: TLSContext, serverName: String? = nil, session: TLSSession? = nil) throws(TLSError) {
        let ssl = try required("SSL_new", SSL_new(context.pointer))
        guard let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError("BIO_new")
        }
        self.input = input
        self.output = output
        SSL_set_bio(ssl, input, output)  // the SSL owns both BIOs from here
        super.init(ssl: ssl)
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let serverName { try expect(serverName) }
            if let session { SSL_set_session(ssl, session.pointer) }
        }
    }

    /// Ciphertext received from the peer.
    public func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Ciphertext received from the peer, read where it lies (a NIO buffer's bytes).
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        _ = BIO_write(input, base, Int32(clamping: bytes.count))
    }

    /// Ciphertext to send to the peer, if any is waiting.
    public func takeOutput() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: pendingOutput) { buffer, count in
            count = takeOutput(into: UnsafeMutableRawBufferPointer(buffer))
        }
    }

    /// How many bytes of ciphertext wait to be sent.
    public var pendingOutput: Int { pw_bio_pending(output) }

    /// Moves waiting ciphertext into `buffer`, as much as fits; how many bytes it moved.
    public func takeOutput(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
        return max(0, Int(BIO_read(output, base, Int32(clamping: buffer.count))))
    }

    /// Advances the handshake: true once it is complete, false while it needs more
    /// input. A refused peer (no certificate, wrong CA, expired) throws. A server forgets
    /// the session of a client without a certificate (an enrollment): strangers' sessions
    /// would otherwise cycle the session cache (20,480) and push hosts' out.
    public func handshake() throws(TLSError) -> Bool {
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            if SSL_is_server(ssl) == 1, SSL_get0_peer_certificate(ssl) == nil { forgetSession() }
            return true
        }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return false
        default: throw failure("TLS handshake")
        }
    }

    /// Drops this connection's session from the server's cache: a peer refused after its
    /// handshake (a revoked certificate) must not keep a session that, repeated 20,480
    /// times, pushes hosts' sessions out.
    public func forgetSession() {
        guard let session = SSL_get_session(ssl) else { return }
        SSL_CTX_remove_session(SSL_get_SSL_CTX(ssl), session)
    }

    /// Plaintext decrypted so far; empty when more input is needed. nil once the peer
    /// has closed the connection cleanly.
    public func read() throws(TLSError) -> [UInt8]? {
        var plaintext: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = try chunk.withUnsafeMutableBytes { bytes in Result { () throws(TLSError) in try read(into: bytes) } }.get()
            guard let n else { return plaintext.isEmpty ? nil : plaintext }
            if n == 0 { return plaintext }
            plaintext += chunk.prefix(n)
        }
    }

    /// Decrypts what it can into `buffer`: how many bytes, 0 when more input is needed
    /// (or `buffer` is full), nil once the peer has closed the connection cleanly.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> Int? {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return 0 }
        let n = SSL_read(ssl, base, Int32(clamping: buffer.count))
        if n > 0 { return Int(n) }
        switch SSL_get_error(ssl, n) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return 0
        case SSL_ERROR_ZERO_RETURN: return nil
        default: throw failure("TLS read")
        }
    }
}
