import CollectorClient
import Foundation
import OpenSSLTLS
import PortwardenModel

/// One simulated agent: its identity, its session, its sequence, and the digest of the
/// state the collector said it holds for it (what an unchanged report names).
final class Agent: @unchecked Sendable {
    /// How reports are dated: the fixed placeholder (the collector takes late numbered
    /// reports), a second apart by sequence (`--changing`: intervals with lengths), or now.
    enum Dating { case placeholder, bySequence, now }

    let name: String
    /// One connection per collector; `current` is the one that answered last.
    let connections: [CollectorConnection]
    var current: Int
    let context: TLSContext
    /// The last session any connection got (`--resume`, and the open-loop mode's resumed reports).
    let sessions: SessionCache
    /// The connection kept from one report to the next, one per collector (`--keep`, as
    /// an agent's `run` does); nil without --keep.
    let keptConnections: [KeptConnection]?
    var kept: KeptConnection? { keptConnections?[current] }
    /// The snapshot's bytes before and after its sequence number: it never changes
    /// otherwise, so it is encoded once and the load generator's own CPU goes to TLS
    /// rather than to writing the same JSON again (the bytes sent are the same). The
    /// second form, when there is one, has one listener moved: a changed report.
    let forms: [(before: [UInt8], after: [UInt8])]
    let dating: Dating
    var sequence: UInt64
    var firstAcked: UInt64?, lastAcked: UInt64 = 0, acked = 0
    /// The form the collector holds for this host, and its `state_digest` (nil: none yet).
    var form = 0, digest: String?
    /// Serializes a host's reports when any free worker may send them (the open-loop mode).
    let lock = NSLock()

    var connection: CollectorConnection { connections[current] }

    init(index: Int, ca: CertificateAuthority, ports: [UInt16], resume: Bool, keep: Bool, listenerCount: Int, firstSequence: Int,
         forms formCount: Int, dating: Dating) throws {
        let name = "load-" + String(format: "%04d", index)
        self.name = name
        let key = try PrivateKey.generate()
        let certificate = try ca.issue(CertificateRequest(key: key, commonName: name), commonName: name, usage: .client)
        let context = try TLSContext.client(trust: ca.certificate, certificate: certificate, key: key)
        self.context = context
        let sessions = SessionCache()
        self.sessions = sessions
        keptConnections = keep ? ports.map { _ in KeptConnection() } : nil
        connections = ports.map {
            CollectorConnection(host: "127.0.0.1", port: $0, context: context, timeout: 30, sessions: resume ? sessions : nil)
        }
        current = index % ports.count
        sequence = UInt64(firstSequence)
        self.dating = dating
        forms = (0..<formCount).map { form in
            var listeners = (0..<listenerCount).map(Agent.listener)
            if form == 1, !listeners.isEmpty { listeners[0].port = 20000 }
            let snapshot = Snapshot(
                host: Host(hostname: name, machineID: name, bootID: Agent.bootID, kernel: "6.1", os: "Debian"), sequence: 0,
                collectedAt: Agent.placeholder, complete: true, ownershipComplete: true, warnings: [], namespaces: [],
                listeners: listeners, unresolved: [])
            var writer = JSONWriter()
            writer.value(snapshot)
            let marker = Array(#""sequence":0"#.utf8)
            let at = writer.buffer.indices.first { writer.buffer[$0...].starts(with: marker) }! + marker.count - 1
            return (Array(writer.buffer[..<at]), Array(writer.buffer[(at + 1)...]))
        }
    }

    static func listener(_ i: Int) -> Listener {
        let daemon = "daemon\(i % 7)"
        let owner = Owner(pid: Int32(100 + i), name: daemon, exe: "/usr/sbin/" + daemon,
                          cmdline: ["/usr/sbin/" + daemon, "--port", String(1000 + i)], uid: 0, user: "root",
                          unit: daemon + ".service", container: nil)
        return Listener(transport: i % 3 == 0 ? .udp : .tcp, family: .ipv4, address: "0.0.0.0", port: UInt16(1000 + i),
                        scope: .any, netns: 4026531840, hostNetns: true, inode: UInt64(i), uid: 0, processes: [owner])
    }

    static let bootID = "load"
    static let placeholder = "2026-11-25T10:00:00Z"
    static let base = Timestamp.seconds(rfc3339: placeholder)!

    var collectedAt: String {
        switch dating {
        case .placeholder: Agent.placeholder
        case .bySequence: Timestamp.rfc3339(Agent.base + Int64(sequence))
        case .now: Timestamp.rfc3339()
        }
    }

    /// The whole snapshot in `form` (default: with two forms, one listener moved every
    /// other sequence), at the current sequence.
    func report(form: Int? = nil) -> [UInt8] {
        let form = forms[form ?? Int(sequence % UInt64(forms.count))]
        let bytes = form.before + Array(String(sequence).utf8) + form.after
        guard dating != .placeholder else { return bytes }
        let time = Array(collectedAt.utf8), marker = Array(Agent.placeholder.utf8)
        guard let at = bytes.indices.first(where: { bytes[$0...].starts(with: marker) }) else { return bytes }
        return Array(bytes[..<at]) + time + Array(bytes[(at + marker.count)...])
    }

    /// Sends the report (again, with `untilAcked`, moving from collector to collector,
    /// until one acknowledges it or a minute has gone); whether it was acknowledged.
    func send(_ body: [UInt8], untilAcked: Bool) -> Bool {
        let giveUp = ContinuousClock.now + .seconds(60)
        defer { sequence += 1 }
        while true {
            for _ in connections {
                let answer = try? post(Agent.reportsPath, body, otherwise: nil, fullHandshake: connection.sessions == nil)
                if answer?.response.status == 200 {
                    if firstAcked == nil { firstAcked = sequence }
                    lastAcked = sequence
                    acked += 1
                    return true
                }
                current = (current + 1) % connections.count
            }
            guard untilAcked, ContinuousClock.now < giveUp else { return false }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }
}
