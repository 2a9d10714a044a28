import CollectorClient
import Glibc
import OpenSSLTLS
import PortwardenModel

/// One connection to a collector with TCP_NODELAY set once the handshake is done
/// (`--nodelay`), so a request is not held back waiting for the peer's ACK of the
/// client's last handshake message (a delayed ACK: 40 ms). It can carry a second
/// request (keep-alive), as the agent's client does after a 409.
struct Exchange {
    let socket: TLSSocket
    let host: String

    /// Connects and handshakes, offering `session` (nil: a full handshake).
    init(_ connection: CollectorConnection, session: TLSSession?) throws {
        socket = try TLSSocket.connect(host: connection.host, port: connection.port, context: connection.context,
                                       session: session, timeout: connection.timeout)
        host = connection.host
        var on: Int32 = 1
        setsockopt(socket.fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    func post(_ path: String, body: [UInt8], keepAlive: Bool) throws -> HTTPResponse {
        let head = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\nContent-Length: \(body.count)\r\n"
            + (keepAlive ? "" : "Connection: close\r\n") + "Content-Type: application/json\r\n\r\n"
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

    /// Sends one report: unchanged (the full snapshot when the collector has given no
    /// digest yet, and after a 409 on the same connection), changed (the other form of
    /// the snapshot: one listener moved) or the same snapshot again in full; keeps the
    /// digest a 200 states.
    func deliver(_ kind: Kind, fullHandshake: Bool) -> Delivery {
        var delivery = Delivery()
        let next = kind == .changed ? (form + 1) % forms.count : form
        do {
            let answer: HTTPResponse
            if kind == .unchanged, let digest {
                let brief = UnchangedReport(hostname: name, bootID: Agent.bootID, sequence: sequence, collectedAt: collectedAt,
                                            stateDigest: digest, warnings: []).wire
                sequence += 1
                // The snapshot that follows a 409 comes next in the host's order.
                (answer, delivery.fellBack) = try post(Agent.unchangedPath, brief, otherwise: (Agent.reportsPath, report(form: next)),
                                                       fullHandshake: fullHandshake)
                guard delivery.fellBack else {
                    delivery.acknowledged = answer.status == 200
                    return delivery
                }
            } else {
                answer = try post(Agent.reportsPath, report(form: next), otherwise: nil, fullHandshake: fullHandshake).response
            }
            sequence += 1
            guard answer.status == 200 else { return delivery }
            form = next
            digest = Agent.stateDigest(in: answer.body)
            delivery.acknowledged = true
        } catch {}
        return delivery
    }

    static let reportsPath = "/v1/reports", unchangedPath = "/v1/reports/unchanged"

    /// `POST path` and, when the collector answers 409, `second` on the same connection:
    /// through the agent's client, or with `nodelay` through `Exchange`.
    func post(_ path: String, _ body: [UInt8], otherwise second: (path: String, body: [UInt8])?,
              fullHandshake: Bool) throws -> (response: HTTPResponse, second: Bool) {
        guard nodelay else {
            let via = CollectorConnection(host: connection.host, port: connection.port, context: context,
                                          timeout: connection.timeout, sessions: fullHandshake ? nil : sessions)
            guard let second else { return (try via.post(path, body: body), false) }
            return try via.post(path, body: body, otherwise: second, on: [409])
        }
        let exchange = try Exchange(connection, session: fullHandshake ? nil : sessions.session)
        defer { exchange.close(keeping: sessions) }
        let first = try exchange.post(path, body: body, keepAlive: second != nil)
        guard let second, first.status == 409 else { return (first, false) }
        return (try exchange.post(second.path, body: second.body, keepAlive: false), true)
    }

    /// The `"state_digest":"<64 hex>"` of a collector's answer, if it has one.
    static func stateDigest(in body: [UInt8]) -> String? {
        let marker = Array(#""state_digest":""#.utf8)
        guard let at = body.indices.first(where: { body[$0...].starts(with: marker) }) else { return nil }
        let digest = String(decoding: body[(at + marker.count)...].prefix(64), as: UTF8.self)
        return UnchangedReport.isDigest(digest) ? digest : nil
    }
}
