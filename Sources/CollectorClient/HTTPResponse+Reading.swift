import OpenSSLTLS

extension HTTPResponse {
    /// Reads one response from `socket`: until it is complete by its framing, or the
    /// server closes. Bounded by `maxBytes`.
    public static func read(from socket: TLSSocket) throws -> HTTPResponse {
        var reader = HTTPResponseReader()
        while true {
            let chunk = try socket.read()
            if chunk.isEmpty { return try reader.finish() }
            if let response = try reader.receive(chunk) { return response }
        }
    }
}
