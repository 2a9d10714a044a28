import Testing
import PortwardenModel
@testable import Policy

/// Each field and each operator, evaluated on listeners whose every fact is known.
struct ConditionTests {
    typealias F = PolicyFixtures

    static let sshd = F.listener(port: 22, address: "10.0.0.5", uid: 0,
                                 owners: [F.owner("sshd", unit: "ssh.service"), F.owner("sshd-session", user: "alice")])
    static let vmsd = F.listener(port: 557, transport: .udp, address: "::ffff:10.1.2.3", netns: 4_026_532_500, uid: 65_534,
                                 owners: [F.owner("vmsd", exe: "/opt/vms/bin/vmsd (deleted)", user: nil,
                                                  container: "docker://3f2a")], foundBy: .pidfd)
    static let orphan = F.listener(port: 111, transport: .udp, address: "127.0.0.1")

    @Test(arguments: [
        // port: single, range, list, comparisons, negation
        ("port 22", true), ("port 23", false), ("port == 22", true), ("port != 22", false),
        ("port 20..25", true), ("port in [21, 22]", true), ("port in [1..10, 30..40]", false), ("port not in [22]", false),
        ("port < 23", true), ("port < 22", false), ("port <= 22", true), ("port > 21", true), ("port >= 23", false),
        // enumerations
        ("protocol tcp", true), ("protocol == udp", false), ("protocol in [tcp, udp]", true),
        ("family ipv4", true), ("family != ipv4", false), ("scope specific", true), ("scope != loopback", true),
        ("scope in [any, loopback]", false), ("found_by procfs", true), ("found_by == pidfd", false),
        // namespace, address
        ("namespace host", true), ("namespace != host", false), ("namespace == 4026531840", true),
        ("address in 10.0.0.0/8", true), ("address 10.0.0.0/24", true), ("address in [192.168.0.0/16, fe80::/10]", false),
        ("address == 10.0.0.5", true), ("address != 10.0.0.5", false), ("address not in 10.0.0.0/8", false),
        // owner facts: any owner matches
        ("process.name sshd", true), ("process.name == sshd-session", true), ("process.name ~ \"ssh*\"", true),
        ("process.name ~ [nc, \"rpc*\"]", false), ("process.name !~ \"ssh*\"", false), ("process.name in [nc, sshd]", true),
        ("process.exe ~ /usr/sbin/*", true), ("process.exe ~ \"/tmp/*\"", false),
        ("user alice", true), ("user == bob", false), ("unit ssh.service", true), ("unit ~ \"*.socket\"", false),
        ("container ~ \"*\"", false), ("uid 0", true), ("uid > 0", false), ("owners 2", true), ("owners == 0", false),
        // host facts
        ("host.name web-01", true), ("host.name ~ \"WEB-*\"", true), ("host.name == web-02", false),
        ("tag prod", true), ("tag == PROD", true), ("tag OpenVMS", false), ("tag in [dmz, prod]", true),
        ("label role", true), ("label os", false), ("host.labels.role == bastion", true), ("host.labels.role ~ \"db*\"", false),
        // catalogue
        ("catalog", false), ("service exec", false),
        // connectives and precedence: and binds tighter than or; not tighter than and
        ("port 22 and protocol tcp", true), ("port 23 or protocol udp", false),
        ("port 22 or port 23 and protocol udp", true), ("not port 22 and protocol udp", false), ("(port 22 or port 23) and protocol udp", false),
    ] as [(String, Bool)])
    func sshdListener(condition: String, expected: Bool) throws {
        #expect(try F.fires(condition, Self.sshd, tags: ["prod"], labels: ["role": "bastion"]) == expected, "\(condition)")
    }

    @Test(arguments: [
        ("port 557 and protocol udp", true), ("family ipv6", true), ("address in 10.0.0.0/8", true),
        ("address in ::ffff:0:0/96", true), ("address in 10.1.2.3/32", true), ("address == ::ffff:10.1.2.3", true),
        ("namespace host", false), ("namespace 4026532500", true), ("found_by pidfd", true),
        ("process.exe ~ \"* (deleted)\"", true), ("user ~ \"*\"", false), ("user != root", true),
        ("container ~ \"docker://*\"", true), ("uid 65534", true),
        ("catalog", true), ("service openvms-sysipc", true), ("service ~ \"openvms*\"", true), ("service exec", false),
        ("catalog and not tag OpenVMS", true), ("not (port 557 or port 55)", false),
        ("port 557 and (tag OpenVMS or label vms)", false), ("not not port 557", true),
    ] as [(String, Bool)])
    func containerListener(condition: String, expected: Bool) throws {
        #expect(try F.fires(condition, Self.vmsd, host: "vms-01") == expected, "\(condition)")
    }

    @Test func ownerlessListenerMatchesNoOwnerTestAndEveryNegatedOne() throws {
        #expect(try F.fires("owners 0", Self.orphan))
        #expect(try !F.fires("process.name ~ \"*\"", Self.orphan))
        #expect(try F.fires("process.name != rpcbind", Self.orphan))
        #expect(try F.fires("scope loopback and address 127.0.0.0/8", Self.orphan))
    }

    @Test func ownersCountsProgramsNotForkedWorkers() throws {
        // nginx's master and three workers differ only in pid and command line: one program,
        // as the history keeps them; a shell that inherited the socket is a second.
        var worker = F.owner("nginx", user: "www-data")
        let workers = (0..<4).map { i in
            worker.pid = 200 + Int32(i)
            worker.cmdline = ["nginx: worker process \(i)"]
            return worker
        }
        let pool = F.listener(port: 80, owners: workers)
        #expect(try F.fires("owners 1", pool))
        #expect(try !F.fires("owners > 1", pool))
        let leaked = F.listener(port: 80, owners: workers + [F.owner("sh", user: "www-data")])
        #expect(try F.fires("owners 2", leaked))
    }

    @Test func catalogueKnowsProtocols() throws {
        // 512/tcp is exec, 512/udp is biff: `service exec` must not catch comsat.
        #expect(try F.fires("service exec", F.listener(port: 512, transport: .tcp)))
        #expect(try !F.fires("service exec", F.listener(port: 512, transport: .udp)))
        #expect(try F.fires("service biff", F.listener(port: 512, transport: .udp)))
        #expect(try F.fires("catalog", F.listener(port: 512, transport: .udp)))
        #expect(try !F.fires("catalog", F.listener(port: 513, transport: .tcp)))
    }

    @Test func unlessExcusesAMatch() throws {
        let policy = try F.policy(when: "port 557", unless: "tag OpenVMS")
        let listener = F.listener(port: 557)
        #expect(policy.evaluate(listeners: [listener], host: HostFacts(name: "x", tags: ["OpenVMS"]), now: F.noon).isEmpty)
        #expect(policy.evaluate(listeners: [listener], host: HostFacts(name: "x", tags: []), now: F.noon).count == 1)
    }

    @Test func labelsAreNotTags() throws {
        // An agent that declares itself OpenVMS is still judged by the collector's tags.
        let policy = try F.policy(when: "port 557", unless: "tag OpenVMS")
        let host = HostFacts(name: "web-01", tags: [], labels: ["OpenVMS": "true", "tag": "OpenVMS"])
        #expect(policy.evaluate(listeners: [F.listener(port: 557)], host: host, now: F.noon).count == 1)
        #expect(try F.fires("label OpenVMS", F.listener(), labels: ["OpenVMS": "true"]))
        #expect(try !F.fires("tag OpenVMS", F.listener(), labels: ["OpenVMS": "true"]))
    }

    @Test func findingsCarryRuleHostListenerOwnersAndVersion() throws {
        let policy = try F.policy(when: "port 22")
        let findings = policy.evaluate(snapshot: snapshot(listeners: [Self.sshd, Self.orphan]), tags: [], now: F.noon)
        let finding = try #require(findings.first)
        #expect(findings.count == 1)
        #expect(finding.rule == "r" && finding.severity == .low && finding.why == "test" && finding.host == "web-01")
        #expect(finding.listener == Self.sshd && finding.listener.processes.map(\.name) == ["sshd", "sshd-session"])
        #expect(!finding.isWaived && finding.policyVersion == policy.digest && policy.digest.count == 64)
    }

    @Test func onlyRulesThatCanMatchAPortAreTried() throws {
        let load = F.load(rules: """
            rules:
              - {id: a, why: a, severity: low, when: port 557}
              - {id: b, why: b, severity: low, when: catalog and scope any}
              - {id: c, why: c, severity: low, when: process.name nc}
              - {id: d, why: d, severity: low, when: not port 22}
            """)
        let policy = try #require(load.policy, "\(load.diagnostics)")
        #expect(policy.rulesByPort[557] == [0, 1, 2, 3])
        #expect(policy.rulesByPort[55] == [1, 2, 3])
        #expect(policy.rulesByPort[22] == [2, 3])
        // And the prefilter changes no answer.
        let findings = policy.evaluate(listeners: [F.listener(port: 557, owners: [F.owner("nc")])],
                                       host: HostFacts(name: "h", tags: []), now: F.noon)
        #expect(findings.map(\.rule) == ["a", "b", "c", "d"])
    }

    func snapshot(listeners: [Listener]) -> Snapshot {
        Snapshot(host: Host(hostname: "web-01", machineID: nil, bootID: nil, kernel: nil, os: nil), collectedAt: "2026-06-15T12:00:00Z",
                 complete: true, ownershipComplete: true, warnings: [], namespaces: [], listeners: listeners, unresolved: [])
    }
}
