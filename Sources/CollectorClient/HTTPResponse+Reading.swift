import OpenSSLTLS

extension HTTPResponse {
    /// Reads one response from `socket`: until it is complete by its Content-Length, or
    /// the server closes. At most 16 MiB.
    public static func read(from socket: TLSSocket) throws -> HTTPResponse {
        var received: [UInt8] = []
        while true {
            let chunk = try socket.read()
            if chunk.isEmpty {
                guard let response = try parse(received) else { throw HTTPClientError.closedEarly }
                return response
            }
            received += chunk
            if received.count > 16 << 20 { throw HTTPClientError.tooLarge(16 << 20) }
            if let response = try parse(received) { return response }
        }
    }
}
