import CollectorClient
import Glibc
import OpenSSLTLS
import PortwardenModel

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
                (answer, delivery.fellBack) = try post(UnchangedReport.path, brief, otherwise: (Agent.reportsPath, report(form: next)),
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

    static let reportsPath = "/v1/reports"

    /// `POST path` and, when the collector answers 409, `second` on the same connection,
    /// through the agent's client. A full handshake also gives up the kept connection, as
    /// an agent reconnecting would.
    func post(_ path: String, _ body: [UInt8], otherwise second: (path: String, body: [UInt8])?,
              fullHandshake: Bool) throws -> (response: HTTPResponse, second: Bool) {
        if fullHandshake { kept?.drop() }
        let via = CollectorConnection(host: connection.host, port: connection.port, context: context,
                                      timeout: connection.timeout, sessions: fullHandshake ? nil : sessions,
                                      kept: fullHandshake ? nil : kept)
        guard let second else { return (try via.post(path, body: body), false) }
        return try via.post(path, body: body, otherwise: second, on: [409])
    }

    /// The `"state_digest":"<64 hex>"` of a collector's answer, if it has one.
    static func stateDigest(in body: [UInt8]) -> String? {
        let marker = Array(#""state_digest":""#.utf8)
        guard let at = body.indices.first(where: { body[$0...].starts(with: marker) }) else { return nil }
        let digest = String(decoding: body[(at + marker.count)...].prefix(64), as: UTF8.self)
        return UnchangedReport.isDigest(digest) ? digest : nil
    }
}
