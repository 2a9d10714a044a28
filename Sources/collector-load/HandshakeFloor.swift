import Foundation
import OpenSSLTLS

/// OpenSSL's own share of a report: client and server handshakes driven against each
/// other over memory buffers on one thread — no sockets, HTTP, JSON or SQLite. Its
/// reciprocal, times the cores, is what no collector on this machine's OpenSSL can beat.
enum HandshakeFloor {
    /// Microseconds of one full and one resumed handshake (both ends together).
    static func measure(server: TLSContext, clients: [TLSContext], count: Int) throws -> (full: Double, resumed: Double) {
        var sessions = [TLSSession?](repeating: nil, count: clients.count)
        func run(resume: Bool) throws -> Double {
            let started = ContinuousClock.now
            for i in 0..<count {
                let slot = i % clients.count
                sessions[slot] = try pair(server: server, client: clients[slot], session: resume ? sessions[slot] : nil,
                                          expectResumed: resume)
            }
            let elapsed = ContinuousClock.now - started
            return (Double(elapsed.components.seconds) * 1e6 + Double(elapsed.components.attoseconds) / 1e12) / Double(count)
        }
        let full = try run(resume: false)
        return (full, try run(resume: true))
    }

    /// One handshake, then one byte each way so the client holds the session ticket.
    private static func pair(server: TLSContext, client: TLSContext, session: TLSSession?,
                             expectResumed: Bool) throws -> TLSSession? {
        let c = try TLSConnection(context: client, serverName: "127.0.0.1", session: session)
        let s = try TLSConnection(context: server)
        var clientDone = false, serverDone = false
        while !(clientDone && serverDone) {
            if !clientDone { clientDone = try c.handshake() }
            s.feed(c.takeOutput())
            if !serverDone { serverDone = try s.handshake() }
            c.feed(s.takeOutput())
        }
        try c.write([1])
        s.feed(c.takeOutput())
        _ = try s.read()
        try s.write([1])
        c.feed(s.takeOutput())
        _ = try c.read()
        if expectResumed && !c.sessionReused { throw TLSError("the session was not resumed") }
        // Closed as the collector closes: OpenSSL forgets the session of a connection
        // freed without close_notify.
        c.close()
        s.feed(c.takeOutput())
        _ = try s.read()
        s.close()
        return c.session
    }
}
