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
        guard !bytes.isEmpty else { return }
        _ = bytes.withUnsafeBytes { BIO_write(input, $0.baseAddress, Int32($0.count)) }
    }

    /// Ciphertext to send to the peer, if any is waiting.
    public func takeOutput() -> [UInt8] {
        let pending = pw_bio_pending(output)
        guard pending > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: pending)
        let n = bytes.withUnsafeMutableBytes { BIO_read(output, $0.baseAddress, Int32($0.count)) }
        return n > 0 ? Array(bytes.prefix(Int(n))) : []
    }

    /// Advances the handshake: true once it is complete, false while it needs more
    /// input. A refused peer (no certificate, wrong CA, expired) throws.
    public func handshake() throws(TLSError) -> Bool {
        let result = SSL_do_handshake(ssl)
        if result == 1 { return true }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return false
        default: throw failure("TLS handshake")
        }
    }

    /// Plaintext decrypted so far; empty when more input is needed. nil once the peer
    /// has closed the connection cleanly.
    public func read() throws(TLSError) -> [UInt8]? {
        var plaintext: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
            if n > 0 {
                plaintext += chunk.prefix(Int(n))
                continue
            }
            switch SSL_get_error(ssl, n) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return plaintext
            case SSL_ERROR_ZERO_RETURN: return plaintext.isEmpty ? nil : plaintext
            default: throw failure("TLS read")
            }
        }
    }
}
