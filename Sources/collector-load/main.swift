// collector-load: many simulated agents reporting to `portwarden serve` on loopback,
// through the agent's own TLS client. Prints reports/s and latency percentiles.
//
//   collector-load --state-dir DIR --port P [--hosts 200] [--concurrency 32]
//                  [--rounds 10 | --seconds S] [--listeners 50] [--resume | --keep] [--first-sequence 1]
//                  [--get PATH | --unchanged] [--now] [--openssl-floor N]
//                  [--server-pid PID] [--hold S] [--ports P1,P2… --until-acked --changing --acked FILE]
//   collector-load --state-dir DIR --port P --rate R --seconds S [--hosts 2000] [--concurrency 128]
//                  [--changed-percent 1] [--full-handshake-percent 1] [--keep]
//
// Every host reports once per round (hosts × rounds reports in all; with --seconds,
// rounds go on until the time is up); each worker owns
// the hosts whose number it is, modulo --concurrency, so a host's reports stay in order.
// Host certificates are issued here with the state directory's CA (as `enroll sign`
// would), named load-0001, load-0002…; each host's sequence starts at --first-sequence,
// so a later run continues where an earlier one stopped. Reports are dated at a fixed
// time in the past (accepted as late numbered reports); `--now` dates them now — a host
// dated now once cannot go back to the fixed time (history is written forwards only).
//
// `--unchanged`: each host sends its full report once (before the clock starts), then
// only the small unchanged report naming the state digest the collector answered with;
// a 409 (the collector does not hold that state) is answered with the full report on
// the same connection, counted as a fallback. Implies --now.
//
// `--rate R --seconds S`: open loop, a fleet's offered load. After each host's first full
// report, R reports a second for S seconds, each due at its time whether or not the
// collector keeps up, and sent by whichever of --concurrency workers is free: latency
// counts from the due time, so queueing counts. The mix: --changed-percent of reports
// move a listener (the rest are unchanged reports), --full-handshake-percent of
// connections skip resumption. 100,000 agents reporting once a minute: --rate 1667
// --seconds 60 (from fewer hosts, each reporting more often). Prints offered and achieved
// rates, failures, p50/p99, and this process's own CPU; reports still unsent 30 s after
// the last was due are counted (unsent=) instead. Implies --now.
//
// `--keep`: each host keeps its connection from one report to the next while the
// collector keeps it open (`keepalive_timeout`), as an agent's `run` does; when the
// collector has closed it, the next resumes its session. Implies --resume. In the
// open-loop mode, a full handshake gives the host's kept connection up.
//
// `--server-pid PID`: the collector's CPU (from /proc, per thread) and this process's,
// a report, over the measured reports alone.
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
func flag(_ name: String) -> Bool { CommandLine.arguments.contains(name) }

let ports = (option("--ports") ?? option("--port") ?? "").split(separator: ",").compactMap { UInt16($0) }
let rate = option("--rate").flatMap(Double.init)
guard let state = option("--state-dir"), !ports.isEmpty, rate.map({ $0 > 0 && option("--seconds", 0) > 0 }) ?? true else {
    FileHandle.standardError.write(Data("""
        usage: collector-load --state-dir DIR --port P [--hosts N] [--concurrency N] [--rounds N | --seconds S] \
        [--listeners N] [--resume | --keep] [--get PATH | --unchanged] [--now] [--server-pid PID] [--hold S] [--openssl-floor N]
               collector-load --state-dir DIR --port P --rate R --seconds S [--hosts N] [--concurrency N] \
        [--changed-percent 1] [--full-handshake-percent 1] [--keep] [--server-pid PID]

        """.utf8))
    exit(2)
}
let hosts = option("--hosts", rate == nil ? 200 : 2000)
let concurrency = min(option("--concurrency", rate == nil ? 32 : 128), hosts)
let duration = option("--seconds", 0)
let rounds = duration > 0 ? Int.max : option("--rounds", 10)
let listeners = option("--listeners", 50), firstSequence = option("--first-sequence", 1)
let resume = flag("--resume") || rate != nil || flag("--keep")
/// Each host keeps its connection from one report to the next, as an agent's `run` does.
let keep = flag("--keep")
/// With `--get PATH`, each "report" is a GET of PATH instead: the cost of the connection,
/// TLS and HTTP alone, without decoding or storing a snapshot.
let getPath = option("--get")
let untilAcked = flag("--until-acked")
let changing = flag("--changing")
let unchanged = flag("--unchanged")
let serverPID = option("--server-pid").flatMap(Int32.init)
let dating: Agent.Dating = flag("--now") || unchanged || rate != nil ? .now : changing ? .bySequence : .placeholder

let ca = try CertificateAuthority(certificate: Certificate(pem: StateFile.read(state + "/ca.pem")),
                                  key: PrivateKey(pem: StateFile.read(state + "/ca.key")))

let agents = try (1...hosts).map {
    try Agent(index: $0, ca: ca, ports: ports, resume: resume, keep: keep, listenerCount: listeners, firstSequence: firstSequence,
              forms: changing || rate != nil ? 2 : 1, dating: dating)
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

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

// The unchanged and open-loop modes start from a state the collector holds: each host's full report.
if unchanged || rate != nil {
    let primed = ClosedLoop(workers: concurrency, rounds: 1, seconds: 0).run(agents) {
        $0.deliver(.same, fullHandshake: !resume).acknowledged
    }
    guard primed.failed == 0 else {
        print("mode=\(unchanged ? "unchanged" : "fleet") reports=0 failed=\(primed.failed): "
              + "of \(hosts) hosts' first full reports, \(primed.failed) were not acknowledged")
        exit(1)
    }
    let undigested = agents.count { $0.digest == nil }
    guard undigested == 0 else {
        print("mode=\(unchanged ? "unchanged" : "fleet") reports=0 failed=\(undigested): the collector's answers to "
              + "\(undigested) of \(hosts) hosts' full reports state no state_digest: it does not take unchanged reports")
        exit(1)
    }
}

// Resumed modes measure resumed sessions: each host's first session is taken before the
// clock starts (a GET /healthz each), not counted as a report with a full handshake.
if resume && !unchanged && rate == nil {
    _ = ClosedLoop(workers: concurrency, rounds: 1, seconds: 0).run(agents) { (try? $0.connection.get("/healthz")) != nil }
}

if let rate {
    let mix = OpenLoop(rate: rate, seconds: Double(duration), workers: concurrency,
                       changed: Double(option("--changed-percent") ?? "1").map { $0 / 100 } ?? 0.01,
                       fullHandshakes: Double(option("--full-handshake-percent") ?? "1").map { $0 / 100 } ?? 0.01)
    let before = serverPID.map(ServerCPU.init(pid:)), machineBefore = machineBusySeconds()
    let result = mix.run(agents)
    let serverCPU = serverPID.map { ServerCPU(pid: $0).total - before!.total }
    let machine = machineBusySeconds() - machineBefore
    let sorted = result.latencies.sorted()
    print(String(format: "mode=fleet hosts=%d offered=%.0f/s achieved=%.0f/s reports=%d failed=%d unsent=%d seconds=%.2f "
                 + "p50=%.1fms p99=%.1fms unchanged=%d changed=%d full_handshakes=%d fallbacks=%d "
                 + "generator_cpu=%.2fs (%.2f cores, %.0f µs a report)",
                 hosts, Double(result.scheduled + result.unsent) / Double(duration), Double(result.acknowledged) / result.elapsed,
                 result.acknowledged, result.failed, result.unsent, result.elapsed, percentile(sorted, 0.5), percentile(sorted, 0.99),
                 result.scheduled - result.changed, result.changed, result.fullHandshakes, result.fallbacks,
                 result.cpu, result.cpu / result.elapsed, result.cpu * 1e6 / Double(max(result.scheduled, 1)))
          + (serverCPU.map { String(format: " collector_cpu=%.2fs (%.2f cores, %.0f µs a report)", $0, $0 / result.elapsed,
                                    $0 * 1e6 / Double(max(result.acknowledged, 1))) } ?? "")
          + String(format: " machine_busy=%.2fs (%.2f cores)", machine, machine / result.elapsed))
    exit(result.failed == 0 && result.unsent == 0 ? 0 : 1)
}

let fallbacks = Atomic<Int>(0)
let serverBefore = serverPID.map(ServerCPU.init(pid:)), ownBefore = processCPUSeconds()
let result = ClosedLoop(workers: concurrency, rounds: rounds, seconds: duration).run(agents) { agent in
    if let getPath { return (try? agent.connection.get(getPath))?.status == 200 }
    guard unchanged else { return agent.send(agent.report(), untilAcked: untilAcked) }
    let delivery = agent.deliver(.unchanged, fullHandshake: !resume)
    if delivery.fellBack { fallbacks.add(1, ordering: .relaxed) }
    return delivery.acknowledged
}
let sorted = result.latencies.sorted()
let mode = (unchanged ? "unchanged-" : changing ? "changed-" : "") + (keep ? "kept" : resume ? "resumed" : "full-handshake")
print(String(format: "mode=%@ reports=%d failed=%d seconds=%.2f rate=%.0f/s p50=%.1fms p99=%.1fms",
             mode, sorted.count, result.failed, result.elapsed,
             Double(sorted.count) / result.elapsed, percentile(sorted, 0.5), percentile(sorted, 0.99))
      + (unchanged ? " fallbacks=\(fallbacks.load(ordering: .relaxed))" : ""))
if let serverPID, let serverBefore {
    print("   µs of CPU a report: collector "
          + ServerCPU.perReport(since: serverBefore, now: ServerCPU(pid: serverPID), reports: sorted.count)
          + String(format: ", load generator %.0f", (processCPUSeconds() - ownBefore) * 1e6 / Double(max(sorted.count, 1))))
}
// --hold S: the kept connections stay open S seconds after the run (the collector's
// memory with them open, as bench/collector-load.sh measures it).
if let hold = option("--hold").flatMap(UInt32.init) {
    // Written at once (print buffers when stdout is a file): the script waits for this line.
    FileHandle.standardOutput.write(Data("holding \(agents.count { $0.kept != nil }) connections open for \(hold) s\n".utf8))
    sleep(hold)
}
if let file = option("--acked") {
    let lines = agents.map { "\($0.name) \($0.firstAcked ?? 0) \($0.lastAcked) \($0.acked)\n" }.joined()
    try Data(lines.utf8).write(to: URL(fileURLWithPath: file))
}
