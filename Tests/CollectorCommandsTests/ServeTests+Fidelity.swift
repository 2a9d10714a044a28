import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
@testable import Policy
import PortwardenModel
import PortwardenTestSupport
import Testing

/// For every field of the rule language, a rule on it: the findings `serve` opens and
/// resolves at ingest are the ones a policy reload, `policy eval --host` and `policy
/// replay` find again over the stored history — nothing the rules read is lost in storage.
extension ServeTests {
    /// Each rule and the word of the language it tests.
    static let fidelityRules: [(field: String, id: String, when: String)] = [
        ("port", "port", "port 5001"),
        ("uid", "uid", "uid 1234"),
        ("owners", "owners", "owners 2"),
        ("protocol", "protocol", "protocol udp and port 5003"),
        ("family", "family", "family ipv6 and port 5004"),
        ("scope", "scope", "scope loopback and port 5005"),
        ("found_by", "found-by", "found_by pidfd"),
        ("namespace", "namespace", "namespace != host"),
        ("address", "address", "address in 10.9.0.0/16"),
        ("process.name", "process-name", "process.name ~ \"evil*\""),
        ("process.exe", "process-exe", "process.exe ~ \"/tmp/*\""),
        ("user", "user", "user mallory"),
        ("unit", "unit", "unit ~ \"*backdoor*\""),
        ("container", "container", "container ~ \"docker://*\""),
        ("host.name", "host-name", "host.name db-01 and port 5432"),
        ("tag", "tag", "tag pci and port 8080"),
        ("label", "label", "label canary and port 22"),
        ("host.labels.KEY", "host-labels", "host.labels.env == prod and port 22"),
        ("service", "service", "service openvms-sysipc"),
        ("catalog", "catalog", "catalog and scope != loopback"),
    ]

    static func owner(_ name: String, pid: Int32, exe: String? = nil, cmdline: [String]? = nil, uid: UInt32 = 0,
                      user: String? = "root", unit: String? = nil, container: String? = nil) -> Owner {
        Owner(pid: pid, name: name, exe: exe ?? "/usr/sbin/\(name)", cmdline: cmdline ?? [name], uid: uid, user: user,
              unit: unit, container: container)
    }

    static func listening(_ port: UInt16, _ owners: [Owner], transport: Transport = .tcp, address: String = "0.0.0.0",
                       netns: UInt64 = 4_026_531_840, uid: UInt32 = 0, foundBy: Discovery = .procfs) -> Listener {
        let ip = IPAddress(address)!
        return Listener(transport: transport, family: ip.family, address: address, port: port, scope: ExposureScope(boundTo: ip),
                        netns: netns, hostNetns: netns == 4_026_531_840, inode: UInt64(port), uid: uid, processes: owners,
                        foundBy: foundBy)
    }

    /// web-01's reports: listeners come and go, nginx's worker pool grows (one program
    /// still), a shell inherits a socket (two), command lines change, labels arrive.
    static func webReports() -> [(listeners: [Listener], labels: [String: String]?, complete: Bool)] {
        let nginx = (0..<5).map { owner("nginx", pid: 100 + $0, cmdline: [$0 == 0 ? "nginx: master process" : "nginx: worker process"],
                                        user: "www-data", unit: "nginx.service") }
        let sshd = owner("sshd", pid: 50, cmdline: ["sshd", "-D"], unit: "ssh.service")
        let base = [listening(22, [sshd]), listening(8080, Array(nginx.prefix(2)))]
        let evil = listening(5001, [owner("evil-daemon", pid: 666, exe: "/tmp/.x/evil", cmdline: ["/tmp/.x/evil", "--listen=5001"],
                                       uid: 1234, user: "mallory", unit: "backdoor.service")], uid: 1234)
        let odd = [
            listening(5003, [owner("dnsmasq", pid: 70)], transport: .udp),
            listening(5004, [owner("java", pid: 71)], address: "::"),
            listening(5005, [owner("redis", pid: 72)], address: "127.0.0.1"),
            listening(7000, [], foundBy: .pidfd),
            listening(7001, [owner("envoy", pid: 73, container: "docker://3f2a")], netns: 4_026_532_999),
            listening(7002, [owner("app", pid: 74)], address: "10.9.1.2"),
            listening(557, [owner("vmsd", pid: 75)]),
            listening(111, [owner("rpcbind", pid: 76)], transport: .udp),
        ]
        let shared = listening(8081, [nginx[0], owner("sh", pid: 900, cmdline: ["sh", "-c", "exec 3<>/dev/tcp"], user: "www-data")])
        return [
            (base, nil, true),
            (base + odd + [evil], nil, true),
            // Incomplete, but the host's namespace read in full (`completeNamespaces`): redis's
            // 5005 is gone from it and closes; envoy's 7001, in a namespace not read, stays
            // open unseen; sshd's descriptors unreadable, its 22 keeps sshd as last known.
            ([listening(22, []), base[1]] + odd.filter { $0.port != 5005 && $0.port != 7001 } + [evil, shared], ["canary": "yes"], false),
            ([base[0], listening(8080, nginx)] + odd + [shared], ["canary": "yes", "env": "prod"], true),
            ([base[0], listening(8080, nginx)] + odd.dropLast(3), ["env": "prod"], true),
        ]
    }

    /// db-01's: SO_REUSEPORT sockets of one program under two uids, a socket found by
    /// pidfd and then through procfs, and a listener seen by two reports within one second.
    static func dbReports() -> [(listeners: [Listener], labels: [String: String]?, complete: Bool)] {
        let postgres = owner("postgres", pid: 300, user: "postgres", unit: "postgresql@15-main.service")
        let tomcat = listening(8080, [owner("tomcat", pid: 303, user: "tomcat")])
        return [
            ([listening(5432, [postgres]), listening(5432, [postgres], uid: 1234), listening(55, [owner("glsrv", pid: 301)]),
              listening(7000, [owner("hidden", pid: 304)], foundBy: .pidfd)], ["env": "prod"], true),
            ([listening(5432, [postgres]), listening(8080, [owner("tomcat", pid: 302, user: "tomcat")]),
              listening(7000, [owner("hidden", pid: 304)])], ["env": "prod"], true),
            ([tomcat], ["env": "prod"], true),
            ([tomcat, listening(5001, [owner("nc", pid: 305)])], ["env": "prod"], true),
            ([tomcat], ["env": "prod"], true),
        ]
    }

    /// Seconds from a host's first report to each of its reports: an hour apart, but db-01's
    /// last two in the same second as the one before them.
    static func offsets(_ name: String, _ count: Int) -> [Int64] {
        (0..<count).map { i in Int64(name == "db-01" ? min(i, 2) : i) * 3_600 }
    }

    static func fidelityPolicy(in directory: String, extra: String = "") throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var rules = "rules:\n"
        for rule in fidelityRules {
            rules += "  - id: \(rule.id)\n    why: tests \(rule.field)\n    severity: high\n    when: '\(rule.when)'\n"
        }
        try (rules + extra).write(toFile: directory + "/rules.yaml", atomically: true, encoding: .utf8)
        try "hosts:\n  - match: \"web-*\"\n    tags: [pci]\n".write(toFile: directory + "/inventory.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(atPath: Self.repositoryPolicies + "/catalog.yaml", toPath: directory + "/catalog.yaml")
        try """
            waivers:
              - rule: port
                host: web-01
                owner: sec@example.com
                reason: a honeypot, watched
                expires: 2099-12-31
            """.write(toFile: directory + "/waivers.yaml", atomically: true, encoding: .utf8)
    }

    static var repositoryPolicies: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Policies").path
    }

    /// A finding as each of the four sources can say it: the rule, the listener, waived or not.
    struct FindingKey: Hashable, CustomStringConvertible {
        var host, rule, transport, address: String
        var port: Int
        var waived: Bool
        var description: String { "\(host) \(rule) \(transport) [\(address)]:\(port)\(waived ? " waived" : "")" }
    }

    @Test func everyFieldARuleReadsIsFoundAgainByReloadEvalAndReplay() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        // Every word of the rule language has a rule here.
        let vocabulary = Set(Field.vocabulary)
        #expect(Set(Self.fidelityRules.map(\.field)) == vocabulary, "a field of the language without a rule in this test")

        let policies = state + "/policies"
        try Self.fidelityPolicy(in: policies)
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try #require(try portwarden(["hosts", "tag", "db-01", "pci", "--create", "--state-dir", state]).status == 0)
        let hosts = ["web-01": (context: try enroll("web-01"), reports: Self.webReports()),
                     "db-01": (context: try enroll("db-01"), reports: Self.dbReports())]
        let port = try unusedPort()
        let log = state + "/serve.log"
        var server = try serve(port: port, ["--policies", policies], log: log)

        // An hour apart, ending a minute ago: older than the clock skew, so sent as an
        // agent's spool sends them, numbered.
        let now = Int64(Date().timeIntervalSince1970)
        let first = now - 3_600 * 5
        for (name, host) in hosts.sorted(by: { $0.key < $1.key }) {
            let connection = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: host.context, timeout: 5)
            for (i, report) in host.reports.enumerated() {
                let snapshot = Snapshot(
                    host: Host(hostname: name, machineID: name, bootID: "boot", kernel: "6.1", os: "Debian 12", labels: report.labels),
                    sequence: UInt64(i + 1), collectedAt: Timestamp.rfc3339(first + Self.offsets(name, host.reports.count)[i]),
                    complete: report.complete,
                    ownershipComplete: report.complete, completeNamespaces: report.complete ? nil : [4_026_531_840], warnings: [],
                    namespaces: [], listeners: report.listeners, unresolved: [])
                var writer = JSONWriter()
                writer.value(snapshot)
                let response = try connection.post("/v1/reports", body: writer.buffer)
                try #require(response.status == 200, "\(name) report \(i + 1): \(String(decoding: response.body, as: UTF8.self))")
            }
        }
        server.terminate()
        server.waitUntilExit()

        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        func stored() throws -> [(key: FindingKey, opened: Int64, closed: Int64?, owners: String)] {
            try hosts.keys.sorted().flatMap { name in
                try database.findingHistory(host: name).map {
                    (FindingKey(host: name, rule: $0.rule, transport: $0.protocol, address: $0.address, port: $0.port, waived: $0.waived),
                     $0.opened, $0.closed, $0.owners)
                }
            }
        }
        let atIngest = try stored()
        let fired = Set(atIngest.map(\.key.rule))
        #expect(fired == Set(Self.fidelityRules.map(\.id)), "every rule fired at ingest: \(fired)")
        #expect(atIngest.contains { $0.closed != nil }, "some findings were resolved")
        // web-01's incomplete report resolved 5005's finding (gone from a namespace read in
        // full), not 7001's (its namespace not read): one interval, open throughout.
        #expect(atIngest.contains { $0.key.host == "web-01" && $0.key.port == 5005 && $0.closed != nil })
        #expect(atIngest.filter { $0.key.host == "web-01" && $0.key.port == 7001 && $0.key.rule == "namespace" }.map(\.closed) == [nil])
        #expect(atIngest.contains { $0.key.waived }, "and one is waived")
        let openAtIngest = Set(atIngest.filter { $0.closed == nil }.map(\.key))

        // policy eval --host: what the stored listeners give now.
        var evaluated: Set<FindingKey> = []
        for name in hosts.keys {
            let (status, output) = try portwarden(["policy", "eval", "--host", name, "--state-dir", state, "--policies", policies,
                                                   "--format", "json"])
            try #require(status == 0, "\(output)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            for finding in try #require(document["findings"] as? [[String: Any]]) {
                let listener = try #require(finding["listener"] as? [String: Any])
                evaluated.insert(FindingKey(host: name, rule: finding["rule"] as! String, transport: listener["protocol"] as! String,
                                            address: listener["address"] as! String, port: listener["port"] as! Int,
                                            waived: finding["waived"] as! Bool))
            }
        }
        #expect(evaluated == openAtIngest, "eval --host: \(evaluated.symmetricDifference(openAtIngest))")

        // policy replay over the whole history: the same intervals, opened and resolved at the same times.
        let (status, output) = try portwarden(["policy", "replay", "--since", "1d", "--state-dir", state, "--policies", policies,
                                               "--format", "json"])
        try #require(status == 0, "\(output)")
        var replayed: [String] = []
        for entry in try listingRows(output, "intervals") {
            let finding = try #require(entry["finding"] as? [String: Any]), listener = try #require(finding["listener"] as? [String: Any])
            let key = FindingKey(host: finding["host"] as! String, rule: finding["rule"] as! String,
                                 transport: listener["protocol"] as! String, address: listener["address"] as! String,
                                 port: listener["port"] as! Int, waived: finding["waived"] as! Bool)
            replayed.append("\(key) \(entry["opened"] as! String)–\((entry["closed"] as? String) ?? "open")")
        }
        let ingested = atIngest.map { "\($0.key) \(Timestamp.rfc3339($0.opened))–\($0.closed.map { Timestamp.rfc3339($0) } ?? "open")" }
        #expect(replayed.sorted() == ingested.sorted(), "replay: \(Set(replayed).symmetricDifference(ingested).sorted())")

        // A policy reload: the same rules find nothing new and resolve nothing; a rule added
        // then opens its finding with the owners' command lines as they were sent.
        server = try serve(port: port, ["--policies", policies], log: log)
        defer { server.terminate(); server.waitUntilExit() }
        try Self.fidelityPolicy(in: policies + ".next", extra: """
              - id: late
                why: added by the reload
                severity: low
                when: port 8080 or port 8081

            """)
        try waitForLine(in: log, containing: "in force", count: 1)
        try FileManager.default.removeItem(atPath: policies + "/rules.yaml")
        try FileManager.default.moveItem(atPath: policies + ".next/rules.yaml", toPath: policies + "/rules.yaml")
        try waitForLine(in: log, containing: "in force", count: 2)
        try waitForLine(in: log, containing: "findings evaluated again (a new policy)", count: 1)
        let afterReload = try stored()
        let unchanged = afterReload.filter { $0.key.rule != "late" }
        #expect(unchanged.map { "\($0.key) \($0.opened) \($0.closed ?? -1)" } == atIngest.map { "\($0.key) \($0.opened) \($0.closed ?? -1)" },
                "the reload opened or resolved a finding the history already had")
        let late = afterReload.filter { $0.key.rule == "late" }
        #expect(late.map { "\($0.key.host):\($0.key.port)" }.sorted() == ["db-01:8080", "web-01:8080"], "8081 is closed by then")
        let nginx = late.first { $0.key.host == "web-01" }?.owners ?? ""
        #expect(nginx.contains("nginx: master process") && nginx.contains("nginx: worker process"), "command lines as sent: \(nginx)")
        let serveLog = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!serveLog.contains("findings evaluated again (start)"), "evaluating at start changed findings: \(serveLog)")
    }

    /// Waits (10 s at most) until `path` has `count` lines containing `text`.
    func waitForLine(in path: String, containing text: String, count: Int) throws {
        for _ in 0..<200 {
            let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            if lines.filter({ $0.contains(text) }).count >= count { return }
            usleep(50_000)
        }
        Issue.record("no \(count) line(s) with \"\(text)\" in \(path): \((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")")
        throw CancellationError()
    }
}
