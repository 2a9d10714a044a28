import Foundation
import OpenSSLTLS

/// OpenSSL's own share of a report: client and server handshakes driven against each
/// other over memory buffers on one thread — no sockets, HTTP, JSON or SQLite. Its
/// reciprocal, times the cores, is what no collector on this machine's OpenSSL can beat.
/// The server's part alone (its `SSL` made, fed, driven and freed) is timed apart: it is
/// what the collector's event loops can come down to, the rest is the agents'.
enum HandshakeFloor {
    /// Microseconds of one handshake, both ends together and the server alone.
    struct Cost {
        var both: Double
        var server: Double
    }

    /// The cost of one full and one resumed handshake.
    static func measure(server: TLSContext, clients: [TLSContext], count: Int) throws -> (full: Cost, resumed: Cost) {
        var sessions = [TLSSession?](repeating: nil, count: clients.count)
        let full = try run(server: server, clients: clients, sessions: &sessions, count: count, resume: false)
        return (full, try run(server: server, clients: clients, sessions: &sessions, count: count, resume: true))
    }

    /// `count` handshakes, full or resuming `sessions`. A function of its own so that a
    /// profiler can tell the two runs apart (`valgrind --tool=callgrind --dump-before='*HandshakeFloor*run*'`).
    @inline(never)
    private static func run(server: TLSContext, clients: [TLSContext], sessions: inout [TLSSession?], count: Int,
                            resume: Bool) throws -> Cost {
        var serverTime = Duration.zero
        let started = ContinuousClock.now
        for i in 0..<count {
            let slot = i % clients.count
            sessions[slot] = try pair(server: server, client: clients[slot], session: resume ? sessions[slot] : nil,
                                      expectResumed: resume, serverTime: &serverTime)
        }
        return Cost(both: microseconds(ContinuousClock.now - started) / Double(count),
                    server: microseconds(serverTime) / Double(count))
    }

    private static func microseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
    }

    /// One handshake, then one byte each way so the client holds the session ticket.
    /// Every call on the server's side adds its time to `serverTime`.
    private static func pair(server: TLSContext, client: TLSContext, session: TLSSession?,
                             expectResumed: Bool, serverTime: inout Duration) throws -> TLSSession? {
        func timed<T>(_ work: () throws -> T) rethrows -> T { try onServer(&serverTime, work) }
        let c = try TLSConnection(context: client, serverName: "127.0.0.1", session: session)
        var s: TLSConnection? = try timed { try TLSConnection(context: server) }
        var clientDone = false, serverDone = false
        while !(clientDone && serverDone) {
            if !clientDone { clientDone = try c.handshake() }
            let hello = c.takeOutput()
            try timed {
                s!.feed(hello)
                if !serverDone { serverDone = try s!.handshake() }
            }
            c.feed(timed { s!.takeOutput() })
        }
        try c.write([1])
        let request = c.takeOutput()
        try timed {
            s!.feed(request)
            _ = try s!.read()
            try s!.write([1])
        }
        c.feed(timed { s!.takeOutput() })
        _ = try c.read()
        if expectResumed && !c.sessionReused { throw TLSError("the session was not resumed") }
        // Closed as the collector closes: OpenSSL forgets the session of a connection
        // freed without close_notify.
        c.close()
        let closing = c.takeOutput()
        try timed {
            s!.feed(closing)
            _ = try s!.read()
            s!.close()
            s = nil
        }
        return c.session
    }

    /// Runs the server's side of a step and adds its time to `total`. Never inlined, so a
    /// profiler counts the server alone: `--toggle-collect='*HandshakeFloor*onServer*'`.
    @inline(never)
    private static func onServer<T>(_ total: inout Duration, _ work: () throws -> T) rethrows -> T {
        let t0 = ContinuousClock.now
        defer { total += ContinuousClock.now - t0 }
        return try work()
    }
}
