import Foundation
import PostgresClient

/// Every recorded certificate's standing, in memory: the TLS layer asks at every handshake,
/// on the event loop, so on PostgreSQL the answer must not cost a round trip. Loaded when
/// first asked, then kept current by LISTEN/NOTIFY on a connection of its own, on a thread
/// of its own: every write that changes a standing (revocation, issuance, renewal, first
/// presentation, retirement) sends `channel` with the name in its transaction, on whichever
/// collector made it, and the name's certificates are read again — so a revocation on one
/// collector is refused by every other within a fraction of a second. The writing
/// collector reads its own change at once (`refresh`). While the listening connection is
/// down, or before the first load, each question is a direct read, which refuses when the
/// database cannot be read either.
final class CertificateStandings: @unchecked Sendable {
    /// The NOTIFY channel; the payload is the host name whose certificates changed.
    static let channel = "portwarden_standing"
    /// The payload that has every view read every certificate again (no name is empty).
    static let everything = ""
    /// The longest name a payload carries (NOTIFY takes under 8000 bytes).
    static let longestAnnounced = 1_000

    private let state: State

    init(conninfo: String) { state = State(conninfo: conninfo) }

    /// The store went away: its thread ends within a poll, its connection with it.
    deinit { state.pause() }

    /// `serial`'s standing from memory. `direct` (a read of the database) only while the
    /// view is current but does not know the serial yet (issued a moment ago elsewhere), or
    /// before its first load. While its listening connection is down the view answers from
    /// what it last loaded, and the thread reads everything again when it is back: the
    /// handshake runs on the event loop, and a read there against a database that went away
    /// would stall every connection of that loop for as long as a connection attempt takes.
    func standing(serial: String, direct: () -> CertificateStanding) -> CertificateStanding {
        state.startIfNeeded()
        if let known = state.lookup(serial) { return known }
        if !state.isCurrent, let stale = state.lookup(serial, evenIfStale: true, absentIsUnrecorded: false) { return stale }
        return direct()
    }

    /// `serial`'s standing as the view last knew it, current or not; nil when it was never
    /// loaded or does not hold the serial. For a database that cannot be reached: nothing
    /// can be revoked in it meanwhile, and every route that reads or writes the history
    /// answers 503 — so a host's agent hears "try later" and spools, rather than a refused
    /// handshake that looks like revocation.
    func lastKnown(serial: String) -> CertificateStanding? { state.lookup(serial, evenIfStale: true) }

    /// Reads `host`'s certificates again after this collector changed them, so its own
    /// next handshake sees the change without waiting for the notification.
    func refresh(host: String, pool: PGPool) {
        state.reload(hosts: [host]) { body in try pool.read(body) }
    }

    /// Starts the view and waits, up to `timeout` seconds, for its first load: a collector
    /// opening its store has it before its first handshake, and then, should the database
    /// go away, still answers from it (`lastKnown`) instead of refusing every host.
    func warmUp(timeout: Double) {
        state.startIfNeeded()
        let deadline = Date().addingTimeInterval(timeout)
        while !state.isCurrent && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
    }

    /// Stops the listening thread (`settle`), and waits up to 2 s for it to end: a process
    /// exiting while the thread is inside libpq can abort in its Kerberos library's
    /// teardown. The next question starts it again.
    func pause() { state.pause(waitingUpTo: 2) }

    /// Whether the view is loaded and listening (for tests).
    var isCurrent: Bool { state.isCurrent }

    /// One recorded certificate, as far as its standing goes.
    struct Certificate {
        var serial: String
        /// The order certificates were recorded in (`certificate.recorded`).
        var recorded: Int64
        var revoked: Bool
        var presented: Bool
    }

    /// The standing of `certificate` among its name's `named`: revoked; superseded once a
    /// certificate recorded after it was presented; else accepted, or waiting for its
    /// first presentation.
    static func standing(of certificate: Certificate, among named: [Certificate]) -> CertificateStanding {
        if certificate.revoked { return .revoked }
        if named.contains(where: { $0.recorded > certificate.recorded && $0.presented }) { return .superseded }
        return certificate.presented ? .accepted : .firstPresentation
    }

    /// The columns `Certificate` is read from.
    static let columns = """
        SELECT serial, hostName, recorded, revokedAt IS NOT NULL AS revoked, firstPresentedAt IS NOT NULL AS presented
        FROM certificate
        """

    static func certificate(_ row: PGRow) throws -> (host: String, Certificate) {
        (try row.value("hostName"), Certificate(serial: try row.value("serial"), recorded: try row.value("recorded"),
                                                revoked: try row.value("revoked"), presented: try row.value("presented")))
    }
}

extension CertificateStandings {
    /// The view's mutable part, shared with its thread (which must not keep the view alive).
    final class State: @unchecked Sendable {
        let conninfo: String
        private let lock = NSLock()
        /// Serialises reads of the database into the view: each starts after the one
        /// before has been applied, so an older read never overwrites a newer one.
        private let reloading = NSLock()
        private var hosts: [String: [Certificate]] = [:]
        private var hostOfSerial: [String: String] = [:]
        private var current = false
        /// Whether it was ever loaded (what `lastKnown` may answer from).
        private var loaded = false
        /// A local refresh failed: the thread reads everything again.
        private var stale = false
        /// Which thread may run: a paused view's thread sees a newer generation and ends.
        private var generation = 0
        private var running = false
        /// Threads started and not yet ended (a paused one may still be finishing a call).
        private var threads = 0
        private let ended = NSCondition()

        init(conninfo: String) { self.conninfo = conninfo }

        var isCurrent: Bool { lock.withLock { current } }

        /// From the view while it is current; `evenIfStale`, from whatever it last loaded.
        /// With `absentIsUnrecorded`, a stale view that does not hold the serial says
        /// `unrecorded`, as a read did when it last loaded (for a database out of reach only:
        /// otherwise a serial recorded since is read).
        func lookup(_ serial: String, evenIfStale: Bool = false, absentIsUnrecorded: Bool = true) -> CertificateStanding? {
            lock.withLock {
                guard current || evenIfStale else { return nil }
                guard let host = hostOfSerial[serial], let named = hosts[host],
                      let certificate = named.first(where: { $0.serial == serial }) else {
                    return evenIfStale && loaded && absentIsUnrecorded ? .unrecorded : nil
                }
                return CertificateStandings.standing(of: certificate, among: named)
            }
        }

        func startIfNeeded() {
            let mine: Int? = lock.withLock {
                guard !running else { return nil }
                running = true
                return generation
            }
            guard let mine else { return }
            ended.withLock { threads += 1 }
            let thread = Thread { [self] in
                listen(generation: mine)
                ended.withLock {
                    threads -= 1
                    ended.broadcast()
                }
            }
            thread.name = "portwarden certificate standings"
            thread.start()
        }

        func pause(waitingUpTo seconds: TimeInterval = 0) {
            lock.withLock {
                generation += 1
                running = false
                current = false
            }
            let deadline = Date().addingTimeInterval(seconds)
            ended.withLock {
                while threads > 0 && ended.wait(until: deadline) {}
            }
        }

        private func isRunning(_ mine: Int) -> Bool { lock.withLock { generation == mine } }

        /// The thread: connect, LISTEN, load everything, then apply notifications; on any
        /// failure (the server restarted, the network went), not current, and again.
        private func listen(generation mine: Int) {
            while isRunning(mine) {
                do {
                    let connection = try PGConnection(conninfo, applicationName: "portwarden standings")
                    try connection.listen(CertificateStandings.channel)
                    // After LISTEN: a change committed from here on is notified, one before is in the load.
                    try loadAll(connection, generation: mine)
                    while isRunning(mine) {
                        let names = try connection.notifications(waitingUpTo: 0.2).map(\.payload)
                        if lock.withLock({ stale }) || names.contains(CertificateStandings.everything) {
                            try loadAll(connection, generation: mine)
                        } else if !names.isEmpty {
                            reload(hosts: Set(names)) { body in try connection.transaction("READ ONLY") { try body(connection) } }
                        }
                    }
                } catch {
                    lock.withLock { if generation == mine { current = false } }
                    Thread.sleep(forTimeInterval: 0.25)
                }
            }
        }

        private func loadAll(_ connection: PGConnection, generation mine: Int) throws {
            try reloading.withLock {
                lock.withLock { stale = false }
                var hosts: [String: [Certificate]] = [:]
                var hostOfSerial: [String: String] = [:]
                try connection.transaction("ISOLATION LEVEL REPEATABLE READ READ ONLY") {
                    try connection.forEachRow(CertificateStandings.columns, batch: 10_000) { row in
                        let (host, certificate) = try CertificateStandings.certificate(row)
                        hosts[host, default: []].append(certificate)
                        hostOfSerial[certificate.serial] = host
                    }
                }
                lock.withLock {
                    guard generation == mine else { return }
                    self.hosts = hosts
                    self.hostOfSerial = hostOfSerial
                    current = true
                    loaded = true
                }
            }
        }

        /// Reads `names`' certificates again through `reading`; a failure leaves the view
        /// stale, so the listening thread reads everything again.
        func reload(hosts names: Set<String>, reading: ((PGConnection) throws -> Void) throws -> Void) {
            reloading.withLock {
                do {
                    var found: [String: [Certificate]] = [:]
                    try reading { connection in
                        for name in names {
                            found[name] = try connection.executePrepared(CertificateStandings.columns + " WHERE hostName = $1", [name])
                                .rows.map { try CertificateStandings.certificate($0).1 }
                        }
                    }
                    lock.withLock {
                        for (name, certificates) in found {
                            for old in hosts[name] ?? [] { hostOfSerial[old.serial] = nil }
                            hosts[name] = certificates.isEmpty ? nil : certificates
                            for certificate in certificates { hostOfSerial[certificate.serial] = name }
                        }
                    }
                } catch {
                    lock.withLock {
                        stale = true
                        current = false
                    }
                }
            }
        }
    }
}
