// collector-load: many simulated agents reporting to `portwarden serve` on loopback,
// through the agent's own TLS client. Prints reports/s and latency percentiles.
//
//   collector-load --state-dir DIR --port P [--hosts 200] [--concurrency 32]
//                  [--rounds 10 | --seconds S] [--listeners 50] [--resume] [--first-sequence 1]
//                  [--get PATH] [--openssl-floor N]
//                  [--ports P1,P2… --until-acked --changing --acked FILE]
//
// Every host reports once per round (hosts × rounds reports in all; with --seconds,
// rounds go on until the time is up); each worker owns
// the hosts whose number it is, modulo --concurrency, so a host's reports stay in order.
// Host certificates are issued here with the state directory's CA (as `enroll sign`
// would), named load-0001, load-0002…; each host's sequence starts at --first-sequence,
// so a later run continues where an earlier one stopped.
//
// For a fleet of several collectors (scripts/fleet-test-postgres): `--ports` lists them
// (each host starts on its own and moves to the next when one does not answer, as the
// agent does); `--until-acked` sends a report again (the same bytes) until a collector
// acknowledges it, as the agent's spool does; `--changing` moves one listener every
// report, so each report closes an interval and opens another; `--acked FILE` writes
// each host's name, first and last acknowledged sequence and how many were acknowledged.
import CollectorClient
import Foundation
import OpenSSLTLS
import PortwardenModel
import StateFiles
import Synchronization

func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = CommandLine.arguments.firstIndex(of: name), i + 1 < CommandLine.arguments.count,
          let value = Int(CommandLine.arguments[i + 1]) else { return fallback }
    return value
}
func option(_ name: String) -> String? {
    guard let i = CommandLine.arguments.firstIndex(of: name), i + 1 < CommandLine.arguments.count else { return nil }
    return CommandLine.arguments[i + 1]
}

let ports = (option("--ports") ?? option("--port") ?? "").split(separator: ",").compactMap { UInt16($0) }
guard let state = option("--state-dir"), !ports.isEmpty else {
    FileHandle.standardError.write(Data("usage: collector-load --state-dir DIR --port P [--hosts N] [--concurrency N] [--rounds N | --seconds S] [--listeners N] [--resume] [--get PATH] [--openssl-floor N]\n".utf8))
    exit(2)
}
let hosts = option("--hosts", 200), concurrency = min(option("--concurrency", 32), option("--hosts", 200))
let duration = option("--seconds", 0)
let rounds = duration > 0 ? Int.max : option("--rounds", 10)
let listeners = option("--listeners", 50), firstSequence = option("--first-sequence", 1)
let resume = CommandLine.arguments.contains("--resume")
/// With `--get PATH`, each "report" is a GET of PATH instead: the cost of the connection,
/// TLS and HTTP alone, without decoding or storing a snapshot.
let getPath = option("--get")
let untilAcked = CommandLine.arguments.contains("--until-acked")
let changing = CommandLine.arguments.contains("--changing")

let ca = try CertificateAuthority(certificate: Certificate(pem: StateFile.read(state + "/ca.pem")),
                                  key: PrivateKey(pem: StateFile.read(state + "/ca.key")))

/// One simulated agent: its identity, its session, its sequence.
final class Agent: @unchecked Sendable {
    let name: String
    /// One connection per collector; `current` is the one that answered last.
    let connections: [CollectorConnection]
    var current: Int
    let context: TLSContext
    /// The snapshot's bytes before and after its sequence number: it never changes
    /// otherwise, so it is encoded once and the load generator's own CPU goes to TLS
    /// rather than to writing the same JSON again (the bytes sent are the same). With
    /// `--changing`, odd sequences have a second form (one listener moved).
    let forms: [(before: [UInt8], after: [UInt8])]
    var sequence: UInt64
    var firstAcked: UInt64?, lastAcked: UInt64 = 0, acked = 0

    var connection: CollectorConnection { connections[current] }

    init(index: Int, ca: CertificateAuthority, ports: [UInt16], resume: Bool, listenerCount: Int, firstSequence: Int) throws {
        let name = "load-" + String(format: "%04d", index)
        self.name = name
        let key = try PrivateKey.generate()
        let certificate = try ca.issue(CertificateRequest(key: key, commonName: name), commonName: name, usage: .client)
        let context = try TLSContext.client(trust: ca.certificate, certificate: certificate, key: key)
        self.context = context
        connections = ports.map {
            CollectorConnection(host: "127.0.0.1", port: $0, context: context, timeout: 30, sessions: resume ? SessionCache() : nil)
        }
        current = index % ports.count
        sequence = UInt64(firstSequence)
        forms = (changing ? [0, 1] : [0]).map { form in
            var listeners = (0..<listenerCount).map(Agent.listener)
            if form == 1, !listeners.isEmpty { listeners[0].port = 20000 }
            let snapshot = Snapshot(
                host: Host(hostname: name, machineID: name, bootID: "load", kernel: "6.1", os: "Debian"), sequence: 0,
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

    /// The next report: the same listeners as every other (or, `--changing`, one moved
    /// every other sequence), the next sequence.
    func report() -> [UInt8] {
        let form = forms[Int(sequence % UInt64(forms.count))]
        let bytes = form.before + Array(String(sequence).utf8) + form.after
        guard changing else { return bytes }
        // Moving listeners: each report a second after the one before, so intervals have lengths to overlap.
        let time = Array(Timestamp.rfc3339(Agent.base + Int64(sequence)).utf8), marker = Array(Agent.placeholder.utf8)
        guard let at = bytes.indices.first(where: { bytes[$0...].starts(with: marker) }) else { return bytes }
        return Array(bytes[..<at]) + time + Array(bytes[(at + marker.count)...])
    }

    static let placeholder = "2026-11-25T10:00:00Z"
    static let base = Timestamp.seconds(rfc3339: placeholder)!

    /// Sends the report (again, with `--until-acked`, moving from collector to collector,
    /// until one acknowledges it or a minute has gone); whether it was acknowledged.
    func send(_ body: [UInt8]) -> Bool {
        let giveUp = ContinuousClock.now + .seconds(60)
        defer { sequence += 1 }
        while true {
            for _ in connections {
                if (try? connection.post("/v1/reports", body: body))?.status == 200 {
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

let agents = try (1...hosts).map {
    try Agent(index: $0, ca: ca, ports: ports, resume: resume, listenerCount: listeners, firstSequence: firstSequence)
}
// --openssl-floor N: N handshakes of each kind in this process, then exit.
if let count = option("--openssl-floor").flatMap(Int.init) {
    let server = try TLSContext.server(certificate: Certificate(pem: StateFile.read(state + "/server.pem")),
                                       key: PrivateKey(pem: StateFile.read(state + "/server.key")), clientCA: ca.certificate)
    let (full, resumed) = try HandshakeFloor.measure(server: server, clients: agents.map(\.context), count: count)
    let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
    print(String(format: "openssl alone, both ends on one thread: full %.0f µs, resumed %.0f µs a handshake "
                 + "(the server's part: full %.0f µs, resumed %.0f µs); "
                 + "ceiling on %.0f cores with nothing else: %.0f/s full, %.0f/s resumed",
                 full.both, resumed.both, full.server, resumed.server, cores, cores * 1e6 / full.both,
                 cores * 1e6 / resumed.both))
    exit(0)
}
let latencies = Mutex<[Double]>([])
let failures = Atomic<Int>(0)
let group = DispatchGroup()
let started = ContinuousClock.now
for worker in 0..<concurrency {
    group.enter()
    Thread {
        var mine: [Double] = []
        let owned = stride(from: worker, to: hosts, by: concurrency).map { agents[$0] }
        let deadline = ContinuousClock.now + .seconds(duration)
        for _ in 0..<rounds {
            if duration > 0 && ContinuousClock.now >= deadline { break }
            for agent in owned {
                let body = getPath == nil ? agent.report() : []
                let t0 = ContinuousClock.now
                let ok = getPath.map { (try? agent.connection.get($0))?.status == 200 } ?? agent.send(body)
                let elapsed = ContinuousClock.now - t0
                if ok {
                    mine.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
                } else {
                    failures.add(1, ordering: .relaxed)
                }
            }
        }
        latencies.withLock { $0 += mine }
        group.leave()
    }.start()
}
group.wait()
let seconds = { let d = ContinuousClock.now - started; return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }()
let sorted = latencies.withLock { $0.sorted() }
func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
print(String(format: "mode=%@ reports=%d failed=%d seconds=%.2f rate=%.0f/s p50=%.1fms p99=%.1fms",
             resume ? "resumed" : "full-handshake", sorted.count, failures.load(ordering: .relaxed), seconds,
             Double(sorted.count) / seconds, percentile(0.5), percentile(0.99)))
if let file = option("--acked") {
    let lines = agents.map { "\($0.name) \($0.firstAcked ?? 0) \($0.lastAcked) \($0.acked)\n" }.joined()
    try Data(lines.utf8).write(to: URL(fileURLWithPath: file))
}
