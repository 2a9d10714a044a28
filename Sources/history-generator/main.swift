import CollectorStore
import Findings
import Foundation
import PortwardenModel

// Writes a realistic fleet history for bench/report-trend.sh, through the store's
// import API: every host with ~50 listeners over the period, 1% of them replaced each
// day, a receipt run per change, and a few hundred legacy-port exposures (with their
// findings) opening and resolving; 1% of hosts go silent near the end.
//
//   history-generator DATABASE [HOSTS=10000] [DAYS=90] [EXPOSURES=300] [END=2026-11-25]

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: history-generator DATABASE [HOSTS] [DAYS] [EXPOSURES] [END]\n".utf8))
    exit(2)
}
let hosts = arguments.count > 2 ? Int(arguments[2])! : 10_000
let days = arguments.count > 3 ? Int(arguments[3])! : 90
let exposures = arguments.count > 4 ? Int(arguments[4])! : 300
let endDay = arguments.count > 5 ? arguments[5] : "2026-11-25"
let listenersPerHost = 50, churn = 0.01

/// SplitMix64: the same history for the same arguments.
struct Random {
    var state: UInt64 = 0x5EED
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
}

guard let endDate = CalendarDate(iso: endDay) else {
    FileHandle.standardError.write(Data("history-generator: END \"\(endDay)\" is not a date (2026-11-25)\n".utf8))
    exit(2)
}
let end = Int64(endDate.daysSinceEpoch) * 86_400
let start = end - Int64(days) * 86_400
var random = Random()
let daemons = ["sshd", "nginx", "postgres", "redis-server", "node_exporter", "java", "containerd", "chronyd", "dnsmasq", "envoy"]
/// Legacy ports and the default policy's rule for each.
let legacy: [(port: Int, transport: String, rule: String, severity: String, daemon: String)] = [
    (557, "tcp", "openvms-sysipc-off-openvms", "critical", "vmsd"), (55, "udp", "isi-gl", "critical", "glsrv"),
    (111, "tcp", "rpc-mapper-exposed", "high", "rpcbind"), (513, "tcp", "r-commands", "high", "rlogind"),
    (23, "tcp", "legacy-port-exposed", "medium", "telnetd"), (21, "tcp", "legacy-port-exposed", "medium", "vsftpd"),
    (69, "udp", "legacy-port-exposed", "medium", "in.tftpd"),
]

/// A wildcard listener of `daemon`, as an agent would report it.
func listener(_ port: Int, _ transport: String, _ daemon: String) -> Listener {
    Listener(transport: Transport(rawValue: transport)!, family: .ipv4, address: "0.0.0.0", port: UInt16(port), scope: .any,
             netns: 4026531840, hostNetns: true, inode: UInt64(port), uid: 0,
             processes: [Owner(pid: 1, name: daemon, exe: "/usr/sbin/" + daemon, cmdline: ["/usr/sbin/" + daemon], uid: 0,
                               user: "root", unit: nil, container: nil)])
}

// Stored exactly as ingest stores these listeners and findings (the store's own builders).
func interval(_ port: Int, _ transport: String, _ daemon: String, opened: Int64, closed: Int64?) -> ListenerInterval {
    ListenerInterval(listener(port, transport, daemon), opened: opened, closed: closed)
}

// Which hosts get which exposures, decided up front.
var exposuresByHost: [Int: [(kind: Int, opened: Int64, closed: Int64?, waived: Bool)]] = [:]
for _ in 0..<exposures {
    let opened = start + Int64(random.below(days * 86_400))
    let closed: Int64? = random.chance(0.25) ? nil : min(end - 1, opened + Int64(3600 + random.below(30 * 86_400)))
    exposuresByHost[random.below(hosts), default: []].append((random.below(legacy.count), opened, closed, random.chance(0.1)))
}

let database = try HistoryStores.open(arguments[1])
let began = Date()
var rows = 0
var batch: [HostHistory] = []
for h in 0..<hosts {
    let name = String(format: "host-%05d", h)
    let silentFrom: Int64? = random.chance(0.01) ? end - Int64(1 + random.below(5)) * 86_400 : nil
    let last = silentFrom ?? (end - Int64(random.below(120)))
    var listeners: [ListenerInterval] = []
    var changeTimes: [Int64] = [start]
    // The steady listeners, each replaced with 1% chance a day.
    for slot in 0..<listenersPerHost {
        var opened = start
        var generation = 0
        for day in 0..<days where random.chance(churn) {
            let at = start + Int64(day) * 86_400 + Int64(random.below(86_400))
            guard at < last else { break }
            listeners.append(interval(10_000 + slot * 50 + generation, slot % 5 == 0 ? "udp" : "tcp", daemons[slot % daemons.count],
                                      opened: opened, closed: at))
            changeTimes.append(at)
            opened = at
            generation += 1
        }
        listeners.append(interval(10_000 + slot * 50 + generation, slot % 5 == 0 ? "udp" : "tcp", daemons[slot % daemons.count],
                                  opened: opened, closed: nil))
    }
    var findings: [FindingInterval] = []
    for exposure in exposuresByHost[h] ?? [] where exposure.opened < last {
        let kind = legacy[exposure.kind]
        listeners.append(interval(kind.port, kind.transport, kind.daemon, opened: exposure.opened, closed: exposure.closed))
        findings.append(FindingInterval(
            ObservedFinding(identity: ObservedFinding.identity(rule: kind.rule, listener: listener(kind.port, kind.transport, kind.daemon),
                                                               waiver: exposure.waived ? "bench" : nil),
                            rule: kind.rule, severity: kind.severity, listener: listener(kind.port, kind.transport, kind.daemon),
                            waiver: exposure.waived ? "bench" : nil, policyVersion: "bench"),
            opened: exposure.opened, closed: exposure.closed))
        changeTimes.append(exposure.opened)
        if let closed = exposure.closed { changeTimes.append(closed) }
    }
    // A receipt run from each change to the next: reports every minute in between.
    let times = changeTimes.filter { $0 < last }.sorted()
    let runs = times.enumerated().map { index, first in
        let runEnd = index + 1 < times.count ? times[index + 1] - 60 : last
        return ReceiptRun(bootID: "boot", firstSequence: Int64(index * 2000), lastSequence: Int64(index * 2000 + 1),
                          lastBodyDigest: "sha256", firstCollected: first, lastCollected: max(first, runEnd),
                          lastReceived: max(first, runEnd), reports: max(1, (runEnd - first) / 60))
    }
    rows += listeners.count + runs.count + findings.count
    batch.append(HostHistory(
        host: HostRecord(name: name, machineID: name, bootID: "boot", kernel: "6.1", os: "Debian 12", firstSeen: start,
                         lastSeen: last, lastReceived: last, lastSequence: Int64(runs.count * 2000), complete: true),
        listeners: listeners, runs: runs, findings: findings))
    if batch.count == 500 || h == hosts - 1 {
        try database.importHistory(batch)
        batch.removeAll(keepingCapacity: true)
    }
}
print("wrote \(hosts) hosts, \(days) days, \(rows) rows in \(String(format: "%.1f", Date().timeIntervalSince(began))) s to \(arguments[1])")
