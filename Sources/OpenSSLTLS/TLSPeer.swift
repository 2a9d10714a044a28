import COpenSSL

/// What both kinds of connection ask of the other end.
enum TLSPeer {
    /// The verified peer certificate: after a successful handshake with
    /// `SSL_VERIFY_PEER`, it chains to our CA.
    static func certificate(of ssl: OpaquePointer) -> Certificate? {
        guard let peer = SSL_get1_peer_certificate(ssl) else { return nil }
        return Certificate(taking: peer)
    }

    /// Makes a client check the server's certificate names `name` (DNS or IP), and
    /// sends it as SNI when it is a DNS name.
    static func expect(_ name: String, on ssl: OpaquePointer) throws(TLSError) {
        let isAddress = name.contains(":") || name.allSatisfy { $0.isNumber || $0 == "." }
        if isAddress {
            try check("expecting address \(name)", X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name))
        } else {
            try check("expecting host \(name)", SSL_set1_host(ssl, name))
            try check("sending SNI \(name)", pw_set_sni(ssl, name))
        }
    }

    /// Writes all of `bytes` as plaintext (SSL_write may take them in parts).
    static func write(_ bytes: [UInt8], ssl: OpaquePointer) throws(TLSError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + offset, Int32($0.count - offset)) }
            guard n > 0 else { throw failure("TLS write", ssl: ssl) }
            offset += Int(n)
        }
    }

    /// An error with OpenSSL's reasons and, when verification failed, why the peer's
    /// certificate was refused ("certificate has expired").
    static func failure(_ operation: String, ssl: OpaquePointer) -> TLSError {
        let verify = SSL_get_verify_result(ssl)
        let detail = verify == X509_V_OK ? nil : "peer certificate: " + String(cString: X509_verify_cert_error_string(verify))
        return TLSError(operation, detail: detail)
    }
}
