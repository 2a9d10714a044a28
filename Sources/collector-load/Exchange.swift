import CollectorClient
import Glibc
import OpenSSLTLS

/// One connection to a collector that can carry a second request (keep-alive): an
/// unchanged report and, when the collector no longer holds the state it names (409),
/// the full snapshot right after it. The agent's `CollectorConnection` closes after each
/// request, which is all the other modes need.
struct Exchange {
    let socket: TLSSocket
    let host: String

    /// Connects and handshakes, offering `session` (nil: a full handshake). `nodelay`:
    /// TCP_NODELAY once the handshake is done, so the request is not held back waiting for
    /// the peer's ACK of the client's last handshake message (a delayed ACK: 40 ms).
    init(_ connection: CollectorConnection, session: TLSSession?, nodelay: Bool) throws {
        socket = try TLSSocket.connect(host: connection.host, port: connection.port, context: connection.context,
                                       session: session, timeout: connection.timeout)
        host = connection.host
        if nodelay {
            var on: Int32 = 1
            setsockopt(socket.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    func post(_ path: String, body: [UInt8], keepAlive: Bool) throws -> HTTPResponse {
        let head = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: \(body.count)\r\n"
            + "Connection: \(keepAlive ? "keep-alive" : "close")\r\nContent-Type: application/json\r\n\r\n"
        // One write: a head written alone waits on the server's delayed ACK (Nagle).
        try socket.write(Array(head.utf8) + body)
        return try HTTPResponse.read(from: socket)
    }

    /// Closes, keeping the session for the next connection (a TLS 1.3 ticket arrives
    /// after the handshake, so it is taken after the first answer).
    func close(keeping sessions: SessionCache) {
        if let session = socket.session { sessions.session = session }
        socket.close()
    }
}

extension Agent {
    /// What became of one report sent through `deliver`.
    struct Delivery {
        var acknowledged = false
        /// The collector answered 409 to an unchanged report and took the full snapshot instead.
        var fellBack = false
    }

    enum Kind { case unchanged, changed, same }

    /// Sends one report on one connection: unchanged (the full snapshot first when the
    /// collector has given no digest yet, and after a 409), changed (the other form of
    /// the snapshot: one listener moved) or the same snapshot again in full; keeps the
    /// digest a 200 states.
    func deliver(_ kind: Kind, fullHandshake: Bool) -> Delivery {
        var delivery = Delivery()
        guard let exchange = try? Exchange(connection, session: fullHandshake ? nil : sessions.session, nodelay: nodelay) else {
            return delivery
        }
        defer { exchange.close(keeping: sessions) }
        do {
            if kind == .unchanged, let digest {
                let answer = try exchange.post("/v1/reports/unchanged", body: unchangedReport(digest: digest), keepAlive: true)
                sequence += 1
                if answer.status == 200 {
                    delivery.acknowledged = true
                    return delivery
                }
                guard answer.status == 409 else { return delivery }
                delivery.fellBack = true
            }
            let next = kind == .changed ? (form + 1) % forms.count : form
            let answer = try exchange.post("/v1/reports", body: report(form: next), keepAlive: false)
            sequence += 1
            guard answer.status == 200 else { return delivery }
            form = next
            digest = Agent.stateDigest(in: answer.body)
            delivery.acknowledged = true
        } catch {}
        return delivery
    }

    /// One full report on a connection of its own: through the agent's client, or with
    /// `nodelay` through `Exchange` (the same request, TCP_NODELAY set); its status.
    func post(_ body: [UInt8]) -> Int? {
        guard nodelay else { return (try? connection.post("/v1/reports", body: body))?.status }
        guard let exchange = try? Exchange(connection, session: connection.sessions?.session, nodelay: true) else { return nil }
        defer { exchange.close(keeping: sessions) }
        return (try? exchange.post("/v1/reports", body: body, keepAlive: false))?.status
    }

    /// The `"state_digest":"<64 hex>"` of a collector's answer, if it has one.
    static func stateDigest(in body: [UInt8]) -> String? {
        let marker = Array(#""state_digest":""#.utf8)
        guard let at = body.indices.first(where: { body[$0...].starts(with: marker) }) else { return nil }
        let hex = body[(at + marker.count)...].prefix(64)
        guard hex.count == 64, hex.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        return String(decoding: hex, as: UTF8.self)
    }
}
