import COpenSSL

/// One end of a TLS connection: the OpenSSL `SSL` object and what it knows of the
/// other end. `TLSConnection` (memory buffers) and `TLSSocket` (a descriptor) differ only
/// in how ciphertext moves; everything else is here, once.
public class TLSEndpoint: @unchecked Sendable {
    let ssl: OpaquePointer

    init(ssl: OpaquePointer) { self.ssl = ssl }

    deinit { SSL_free(ssl) }

    /// Encrypts all of `bytes` (SSL_write may take them in parts).
    public func write(_ bytes: [UInt8]) throws(TLSError) {
        try bytes.withUnsafeBytes { bytes in Result { () throws(TLSError) in try write(bytes) } }.get()
    }

    /// Encrypts all of `bytes`, read where they lie (a NIO buffer's bytes).
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let n = SSL_write(ssl, base + offset, Int32(clamping: bytes.count - offset))
            guard n > 0 else { throw failure("TLS write") }
            offset += Int(n)
        }
    }

    /// Sends (or, over memory buffers, queues) a close_notify for the peer.
    public func close() { SSL_shutdown(ssl) }

    /// The verified peer certificate: after a successful handshake with
    /// `SSL_VERIFY_PEER`, it chains to our CA.
    public var peerCertificate: Certificate? { SSL_get1_peer_certificate(ssl).map(Certificate.init(taking:)) }
    public var protocolVersion: String { String(cString: SSL_get_version(ssl)) }
    public var sessionReused: Bool { SSL_session_reused(ssl) == 1 }
    /// A client's: the server has read our Finished — its new session (ticket) arrived,
    /// which it sends only then. False while a connection the server closed at once (at
    /// its connection cap) never got that far, whatever we wrote on it.
    public var serverCompletedHandshake: Bool { pw_server_completed_handshake(ssl) == 1 }
    /// The session to offer next time. Under TLS 1.3 the ticket arrives after the
    /// handshake: take it after reading the peer's first reply.
    public var session: TLSSession? { SSL_get1_session(ssl).map(TLSSession.init(taking:)) }

    /// Makes a client check the server's certificate names `name` (DNS or IP), and
    /// sends it as SNI when it is a DNS name.
    func expect(_ name: String) throws(TLSError) {
        let isAddress = name.contains(":") || name.allSatisfy { $0.isNumber || $0 == "." }
        if isAddress {
            try check("expecting address \(name)", X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name))
        } else {
            try check("expecting host \(name)", SSL_set1_host(ssl, name))
            try check("sending SNI \(name)", pw_set_sni(ssl, name))
        }
    }

    /// An error with OpenSSL's reasons and, when verification failed, why the peer's
    /// certificate was refused ("certificate has expired").
    func failure(_ operation: String) -> TLSError {
        let verify = SSL_get_verify_result(ssl)
        let detail = verify == X509_V_OK ? nil : "peer certificate: " + String(cString: X509_verify_cert_error_string(verify))
        return TLSError(operation, detail: detail, peerUnverified: verify != X509_V_OK)
    }
}
