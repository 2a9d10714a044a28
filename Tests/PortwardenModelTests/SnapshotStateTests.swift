import PortwardenModel
import Testing

/// The state encoding: equal for every scan the history would store the same, different
/// for every one it would not (docs/wire-format.md, "The state digest").
struct SnapshotStateTests {
    static func owner(pid: Int32, name: String = "sshd", cmdline: [String] = ["/usr/sbin/sshd", "-D"]) -> Owner {
        Owner(pid: pid, name: name, exe: "/usr/sbin/\(name)", cmdline: cmdline, uid: 0, user: "root", unit: "\(name).service",
              container: nil)
    }

    static func listener(port: UInt16, inode: UInt64 = 7, owners: [Owner] = [owner(pid: 812)]) -> Listener {
        Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: port, scope: .any, netns: 4026531840, hostNetns: true,
                 inode: inode, uid: 0, processes: owners)
    }

    static func snapshot(_ listeners: [Listener] = [listener(port: 22), listener(port: 557, inode: 9)], sequence: UInt64 = 1,
                         at time: String = "2026-11-25T10:00:00Z", labels: [String: String]? = ["role": "gw"]) -> Snapshot {
        Snapshot(host: Host(hostname: "vms-gw-01", machineID: "m1", bootID: "b1", kernel: "6.1", os: "Debian", labels: labels),
                 sequence: sequence, collectedAt: time, complete: true, ownershipComplete: true, completeNamespaces: [4026531840],
                 warnings: [], namespaces: [NetworkNamespace(inode: 4026531840, host: true, processes: 92, tablesFrom: 1)],
                 listeners: listeners, unresolved: [])
    }

    @Test func whatTheHistoryDoesNotKeepLeavesTheStateAlone() {
        let base = Self.snapshot().stateEncoding()
        var later = Self.snapshot(sequence: 2, at: "2026-11-25T10:01:00Z")
        later.host.bootID = "b2"
        later.warnings = ["skipped /proc/net/tcp:3"]
        later.namespaces[0].processes = 140
        // A restarted daemon: new pid, new socket inode; listed in another order.
        later.listeners = [Self.listener(port: 557, inode: 99, owners: [Self.owner(pid: 4000)]),
                           Self.listener(port: 22, inode: 98, owners: [Self.owner(pid: 4001)])]
        #expect(later.stateEncoding() == base)
        // Two sockets of one identity (SO_REUSEPORT), several holders of one name: one listener, one owner.
        var shared = Self.snapshot()
        shared.listeners.append(Self.listener(port: 22, inode: 12, owners: [Self.owner(pid: 813), Self.owner(pid: 812)]))
        #expect(shared.stateEncoding() == base)
    }

    @Test func everythingTheHistoryKeepsChangesTheState() {
        let base = Self.snapshot().stateEncoding()
        var changes: [(String, Snapshot)] = []
        func change(_ what: String, _ edit: (inout Snapshot) -> Void) {
            var snapshot = Self.snapshot()
            edit(&snapshot)
            changes.append((what, snapshot))
        }
        change("a port") { $0.listeners[1].port = 558 }
        change("a listener gone") { $0.listeners.removeLast() }
        change("an address") { $0.listeners[0].address = "127.0.0.1" }
        change("a scope") { $0.listeners[0].scope = .loopback }
        change("a namespace") { $0.listeners[0].netns = 4026532000 }
        change("a uid") { $0.listeners[0].uid = 1000 }
        change("how it was found") { $0.listeners[0].foundBy = .pidfd }
        change("not the host's namespace") { $0.listeners[0].hostNetns = false }
        change("an owner's command line") { $0.listeners[0].processes[0].cmdline = ["/usr/sbin/sshd", "-D", "-p", "22"] }
        change("an owner's exe") { $0.listeners[0].processes[0].exe = "/tmp/sshd (deleted)" }
        change("an owner's user") { $0.listeners[0].processes[0].user = nil }
        change("an owner's unit") { $0.listeners[0].processes[0].unit = "evil.service" }
        change("an owner's container") { $0.listeners[0].processes[0].container = "docker://abc" }
        change("a second owner") { $0.listeners[0].processes.append(Self.owner(pid: 900, name: "nc")) }
        change("no owners") { $0.listeners[0].processes = [] }
        change("a label") { $0.host.labels = ["role": "db"] }
        change("no labels") { $0.host.labels = nil }
        change("the kernel") { $0.host.kernel = "6.2" }
        change("the OS") { $0.host.os = "Debian 13" }
        change("the machine id") { $0.host.machineID = "m2" }
        change("complete") { $0.complete = false }
        change("ownership complete") { $0.ownershipComplete = false }
        change("the namespaces read in full") { $0.completeNamespaces = [] }
        change("an agent that does not say") { $0.completeNamespaces = nil }
        for (what, snapshot) in changes {
            #expect(snapshot.stateEncoding() != base, "\(what) must change the state")
        }
        #expect(Set(changes.map { $0.1.stateEncoding() }).count == changes.count, "every change is a state of its own")
    }

    @Test func theEncodingIsTheOneDocumented() {
        let snapshot = Self.snapshot([Self.listener(port: 22)], labels: nil)
        #expect(String(decoding: snapshot.stateEncoding(), as: UTF8.self) == """
            {"state":1,"machine_id":"m1","kernel":"6.1","os":"Debian","labels":null,"complete":true,"ownership_complete":true,\
            "complete_namespaces":[4026531840],"listeners":[{"protocol":"tcp","family":"ipv4","address":"0.0.0.0","port":22,\
            "scope":"any","netns":4026531840,"host_netns":true,"uid":0,"found_by":"procfs","processes":[{"name":"sshd",\
            "exe":"/usr/sbin/sshd","cmdline":["/usr/sbin/sshd","-D"],"user":"root","unit":"sshd.service","container":null}]}]}
            """)
    }

    @Test func anUnchangedReportRoundTripsAndRefusesWhatIsNotOne() throws {
        let digest = String(repeating: "ab", count: 32)
        let report = UnchangedReport(Self.snapshot(), stateDigest: digest)
        #expect(try UnchangedReport(wire: report.wire) == report)
        #expect(report.hostname == "vms-gw-01" && report.bootID == "b1" && report.sequence == 1)

        func refusal(_ json: String) -> String {
            do { _ = try UnchangedReport(wire: Array(json.utf8)); return "accepted" } catch { return "\(error)" }
        }
        let host = #""host":{"hostname":"a","boot_id":"b"},"collected_at":"2026-11-25T10:00:00Z""#
        #expect(refusal(#"{"schema":1,\#(host),"state_digest":"\#(digest.uppercased())"}"#).contains("64 lowercase hex"))
        #expect(refusal(#"{"schema":1,\#(host),"state_digest":"\#(digest)0"}"#).contains("64 lowercase hex"))
        #expect(refusal(#"{"schema":1,\#(host),"state_digest":"../../etc/passwd"}"#).contains("64 lowercase hex"))
        #expect(refusal(#"{"schema":1,\#(host)}"#).contains("state_digest"))
        #expect(refusal(#"{"schema":1,\#(host),"state_digest":"\#(digest)","sequence":18446744073709551615}"#).contains("out of range"))
        let warnings = Array(repeating: #""w""#, count: WireLimits.warningsPerReport + 1).joined(separator: ",")
        #expect(refusal(#"{"schema":1,\#(host),"state_digest":"\#(digest)","warnings":[\#(warnings)]}"#).contains("warnings"))
        let long = String(repeating: "x", count: WireLimits.stringBytes + 1)
        #expect(refusal(#"{"schema":1,"host":{"hostname":"\#(long)"},"collected_at":"x","state_digest":"\#(digest)"}"#)
            .contains("4096"))
        #expect(refusal(#"{"schema":1,\#(host),"state_digest":"\#(digest)","#).contains("byte"))
    }
}
