import COpenSSL

/// Settings shared by many TLS connections (an `SSL_CTX`): TLS 1.2 at least (1.3 is
/// negotiated when both ends have it), our CA as the only trust anchor, session
/// resumption on (tickets, and a server-side cache).
public final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer  // SSL_CTX*
    public let isServer: Bool

    /// Whether a server asks connecting clients for certificates.
    public enum ClientCertificates: Sendable {
        /// Refuse a client that has none (mutual TLS: reports).
        case required
        /// Verify one if offered, accept a client without (enrollment).
        case optional
    }

    private init(method: OpaquePointer, isServer: Bool) throws(TLSError) {
        pointer = try required("SSL_CTX_new", SSL_CTX_new(method))
        self.isServer = isServer
        try check("setting TLS 1.2 as the minimum", pw_ctx_set_min_tls12(pointer))
    }

    deinit { SSL_CTX_free(pointer) }

    /// A collector's context: its certificate and key, clients verified against `clientCA`.
    public static func server(certificate: Certificate, key: PrivateKey, clientCA: Certificate,
                              clientCertificates: ClientCertificates = .required) throws(TLSError) -> TLSContext {
        try server(certificate: certificate, key: key, clientCAs: [clientCA], clientCertificates: clientCertificates)
    }

    /// A collector's context whose clients may hold certificates from any of `clientCAs`
    /// (the old and the new fleet CA while one is rotated).
    public static func server(certificate: Certificate, key: PrivateKey, clientCAs: [Certificate],
                              clientCertificates: ClientCertificates = .required) throws(TLSError) -> TLSContext {
        let context = try TLSContext(method: TLS_server_method(), isServer: true)
        let ctx = context.pointer
        try context.use(certificate: certificate, key: key)
        for clientCA in clientCAs {
            try check("trusting the fleet CA", X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), clientCA.pointer))
            try check("naming the fleet CA to clients", SSL_CTX_add_client_CA(ctx, clientCA.pointer))
        }
        try context.buildChain()
        let failIfNone = clientCertificates == .required ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | failIfNone, nil)
        // Resumed sessions keep the client identity they were verified with.
        let idContext = Array("portwarden".utf8)
        try check("setting the session id context", SSL_CTX_set_session_id_context(ctx, idContext, UInt32(idContext.count)))
        pw_ctx_enable_server_session_cache(ctx)
        pw_ctx_release_idle_buffers(ctx)
        return context
    }

    /// An agent's context: the collector is trusted only if signed by `trust`; the
    /// host's own certificate is presented when given.
    public static func client(trust: Certificate, certificate: Certificate? = nil,
                              key: PrivateKey? = nil) throws(TLSError) -> TLSContext {
        try client(trusting: [trust], certificate: certificate, key: key)
    }

    /// An agent's context trusting any of `authorities` (the fleet CA bundle: two while
    /// the CA is rotated).
    public static func client(trusting authorities: [Certificate], certificate: Certificate? = nil,
                              key: PrivateKey? = nil) throws(TLSError) -> TLSContext {
        let context = try TLSContext(method: TLS_client_method(), isServer: false)
        for trust in authorities {
            try check("trusting the fleet CA", X509_STORE_add_cert(SSL_CTX_get_cert_store(context.pointer), trust.pointer))
        }
        SSL_CTX_set_verify(context.pointer, SSL_VERIFY_PEER, nil)
        if let certificate, let key {
            try context.use(certificate: certificate, key: key)
            try context.buildChain()
        }
        pw_ctx_enable_client_session_cache(context.pointer)
        return context
    }

    /// Our certificate's chain, built once now that the store holds the fleet CA (see the
    /// shim: the root is left out, and no handshake builds it again).
    private func buildChain() throws(TLSError) {
        try check("building the certificate chain", Int32(pw_ctx_build_chain_without_root(pointer) > 0 ? 1 : 0))
    }

    private func use(certificate: Certificate, key: PrivateKey) throws(TLSError) {
        try check("loading the certificate", SSL_CTX_use_certificate(pointer, certificate.pointer))
        try check("loading the private key", SSL_CTX_use_PrivateKey(pointer, key.pointer))
        try check("matching the key to the certificate", SSL_CTX_check_private_key(pointer))
    }
}
