// Evaluates 10,000 hosts × 50 listeners against Policies/ plus 30 more rules, and prints
// the time (target: under 1 s in a release build). Usage: policy-bench [POLICY_DIR] [HOSTS]
import Foundation
import Policy
import PortwardenModel

let directory = CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Policies"
let hostCount = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 10_000 : 10_000
let listenersPerHost = 50

/// 30 rules over every field kind, so the figure is not just the port index at work.
let extraRules: [(id: String, severity: String, when: String)] = [
    ("x-redis", "high", #"port 6379 and scope != loopback"#),
    ("x-memcached", "high", #"port 11211 and protocol udp"#),
    ("x-mongo", "high", #"port 27017 and not address in 10.0.0.0/8"#),
    ("x-elastic", "medium", #"port in [9200, 9300] and scope any"#),
    ("x-docker-api", "critical", #"port in [2375, 2376] and scope != loopback"#),
    ("x-kubelet", "high", #"port 10250 and not tag kubernetes"#),
    ("x-etcd", "high", #"port 2379..2380 and scope any"#),
    ("x-vnc", "medium", #"port 5900..5910"#),
    ("x-rdp", "medium", #"port 3389"#),
    ("x-smb", "high", #"port 445 and scope any"#),
    ("x-snmp", "medium", #"port 161 and protocol udp and scope != loopback"#),
    ("x-ldap", "low", #"port 389 and not tag directory"#),
    ("x-high-dev", "info", #"port 8000..8999 and host.name ~ "prod-*""#),
    ("x-mysql-any", "medium", #"port 3306 and address in [0.0.0.0/32, "::/128"]"#),
    ("x-pg-any", "medium", #"port 5432 and scope any and not tag db"#),
    ("x-netcat", "critical", #"process.name in [nc, ncat, netcat, socat]"#),
    ("x-tmp-exe", "critical", #"process.exe ~ "/tmp/*" or process.exe ~ "/dev/shm/*""#),
    ("x-deleted-exe", "high", #"process.exe ~ "* (deleted)""#),
    ("x-root-high", "low", #"user root and port > 1024 and scope any and not unit ~ "*.service""#),
    ("x-no-owner", "low", #"owners 0 and scope != loopback"#),
    ("x-pidfd", "high", #"found_by pidfd"#),
    ("x-container-host-net", "medium", #"container ~ "docker://*" and namespace host"#),
    ("x-python-http", "medium", #"process.name ~ "python*" and port in [8000, 8080]"#),
    ("x-dmz-only", "medium", #"tag dmz and scope any and port not in [80, 443]"#),
    ("x-label-owner", "info", #"host.labels.team == legacy and scope any"#),
    ("x-public-v6", "low", #"family ipv6 and scope specific and not address in [fe80::/10, fc00::/7, "::ffff:0:0/96"]"#),
    ("x-uid-nobody", "low", #"uid 65534 and scope any"#),
    ("x-kube-unit", "info", #"unit ~ "kube*" and not tag kubernetes"#),
    ("x-nonhost-privileged", "low", #"namespace != host and port < 1024 and scope any"#),
    ("x-web-odd", "low", #"process.name ~ "[a-z]*httpd" and port not in [80, 443, 8080]"#),
]
let extraRulesYAML = "rules:\n" + extraRules.map { rule in
    "  - id: \(rule.id)\n    why: a benchmark rule\n    severity: \(rule.severity)\n    when: '\(rule.when)'\n"
}.joined()

var sources = try PolicySource.read(directory: directory)
sources.append(PolicySource(path: "bench-extra.yaml", text: extraRulesYAML))
let load = PolicySet.load(sources, today: Day(Date()))
guard let policy = load.policy else {
    for d in load.errors { print(d) }
    exit(2)
}

/// A reproducible fleet: mostly ordinary services, a sprinkling of legacy ports and odd owners.
struct Fleet {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next(_ n: Int) -> Int {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Int(state % UInt64(n))
    }
}
var fleet = Fleet()
let commonPorts: [UInt16] = [22, 80, 443, 53, 123, 25, 5432, 3306, 6379, 8080, 9100, 9090, 8000, 8443, 5000, 11211, 27017]
let legacyPorts: [UInt16] = [557, 55, 111, 135, 512, 513, 514, 23, 21, 69, 79, 7, 19]
let names = ["sshd", "nginx", "postgres", "mysqld", "redis-server", "node_exporter", "python3", "java", "chronyd", "named",
             "rpcbind", "containerd", "kubelet", "httpd", "haproxy", "envoy"]
let oddNames = ["nc", "vmsd", "in.rshd", "socat", "lighttpd"]
let addresses = ["0.0.0.0", "127.0.0.1", "::", "::1", "10.1.2.3", "127.0.0.53", "::ffff:10.9.8.7", "10.20.30.40", "fe80::1"]
var snapshots: [(Snapshot, Set<String>)] = []
snapshots.reserveCapacity(hostCount)
for h in 0..<hostCount {
    let hostname = ["web", "db", "prod", "vms", "build"][h % 5] + "-\(h)"
    var listeners: [Listener] = []
    for i in 0..<listenersPerHost {
        let port = fleet.next(100) == 0 ? legacyPorts[fleet.next(legacyPorts.count)]
            : fleet.next(3) == 0 ? UInt16(32_768 + fleet.next(28_000)) : commonPorts[fleet.next(commonPorts.count)]
        let address = fleet.next(200) == 0 ? "2001:db8::5" : addresses[fleet.next(addresses.count)]
        let scope: ExposureScope = address == "0.0.0.0" || address == "::" ? .any : address.hasPrefix("127.") || address == "::1" ? .loopback : .specific
        let name = fleet.next(200) == 0 ? oddNames[fleet.next(oddNames.count)] : names[fleet.next(names.count)]
        let inContainer = fleet.next(6) == 0
        let owners = fleet.next(100) == 0 ? [] : [Owner(
            pid: Int32(1000 + i), name: name, exe: fleet.next(50) == 0 ? "/tmp/.x/\(name) (deleted)" : "/usr/sbin/\(name)",
            cmdline: [name], uid: 0, user: fleet.next(4) == 0 ? "root" : "svc", unit: fleet.next(2) == 0 ? "\(name).service" : nil,
            container: inContainer || fleet.next(100) == 0 ? "docker://\(h)" : nil)]
        listeners.append(Listener(transport: fleet.next(4) == 0 ? .udp : .tcp, family: address.contains(":") ? .ipv6 : .ipv4,
                                  address: address, port: port, scope: scope, netns: inContainer ? 4_026_532_000 + UInt64(h) : 4_026_531_840,
                                  hostNetns: !inContainer, inode: UInt64(h * 100 + i), uid: fleet.next(30) == 0 ? 65_534 : 0,
                                  processes: owners, foundBy: fleet.next(500) == 0 ? .pidfd : .procfs))
    }
    let snapshot = Snapshot(host: Host(hostname: hostname, machineID: nil, bootID: nil, kernel: nil, os: nil,
                                       labels: h % 50 == 0 ? ["team": "legacy"] : nil),
                            collectedAt: "2026-06-15T12:00:00Z", complete: true, ownershipComplete: true, warnings: [],
                            namespaces: [], listeners: listeners, unresolved: [])
    var tags = policy.inventory.tags(for: hostname)
    if h % 7 == 0 { tags.insert("dmz") }
    snapshots.append((snapshot, tags))
}

let now = Date()
let clock = ContinuousClock()
var findings = 0, waived = 0
var byRule: [String: Int] = [:]
let elapsed = clock.measure {
    for (snapshot, tags) in snapshots {
        let result = policy.evaluate(snapshot: snapshot, tags: tags, now: now)
        findings += result.count
        for f in result {
            if f.isWaived { waived += 1 }
            byRule[f.rule, default: 0] += 1
        }
    }
}
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let evaluations = hostCount * listenersPerHost
print("policy-bench: \(hostCount) hosts × \(listenersPerHost) listeners = \(evaluations) listeners, \(policy.rules.count) rules (policy \(policy.digest.prefix(12)))")
print("findings: \(findings) (\(waived) waived); most: " + byRule.sorted { $0.value > $1.value }.prefix(5).map { "\($0.key) \($0.value)" }.joined(separator: ", "))
print(String(format: "evaluated in %.3f s — %.0f listeners/s, %.1f ns per listener-rule (target < 1 s)",
             seconds, Double(evaluations) / seconds, seconds * 1e9 / Double(evaluations * policy.rules.count)))
exit(seconds < 1 ? 0 : 1)
