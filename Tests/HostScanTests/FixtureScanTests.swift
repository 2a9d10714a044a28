import Testing
@testable import HostScan
import PortwardenModel
import ProcFS

/// The whole join on fixture trees, where every answer is known.
struct FixtureScanTests {
    static let fixtures: String = {
        let dir = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast()
        return dir.joined(separator: "/") + "/Fixtures"
    }()

    func scan(_ tree: String) throws -> Snapshot {
        try ListenerScan(procfs: ProcFS(root: Self.fixtures + "/" + tree)).run()
    }

    @Test func everyListenerInEveryNamespaceWithItsOwners() throws {
        let snapshot = try scan("proc")
        let seen = snapshot.listeners.map { "\($0.transport.rawValue) \($0.address) \($0.port) \($0.scope.rawValue) \($0.netns)" }
        #expect(seen == [
            "tcp 0.0.0.0 22 any 4026531840",
            "tcp :: 22 any 4026531840",
            "tcp ::1 25 loopback 4026531840",
            "udp 10.0.0.5 55 specific 4026532500",
            "udp 0.0.0.0 111 any 4026531840",
            "tcp 2001:db8::1 443 specific 4026531840",
            "tcp 0.0.0.0 557 any 4026532500",
            "tcp 127.0.0.1 631 loopback 4026531840",
            "tcp ::ffff:127.0.0.1 8080 loopback 4026532500",
        ])
        #expect(snapshot.namespaces.map(\.inode) == [4026531840, 4026532500])
        #expect(snapshot.namespaces.map(\.host) == [true, false])
        #expect(snapshot.listeners.filter(\.hostNetns).count == 6)
        #expect(snapshot.host.hostname == "fixture-host")
        #expect(snapshot.host.kernel == "6.1.0-fixture")
    }

    @Test func aSocketSharedByForkedWorkersListsEveryHolderOnce() throws {
        let ssh = try #require(try scan("proc").listeners.first { $0.port == 22 && $0.family == .ipv4 })
        #expect(ssh.processes.map(\.pid) == [200, 201])
        #expect(ssh.processes[1].exe == "/usr/sbin/sshd (deleted)")
        #expect(ssh.processes[1].cmdline == ["sshd: admin [priv]"])
        #expect(ssh.processes[0].unit == "ssh.service")
        #expect(ssh.processes[0].user == "root")
        #expect(ssh.ownerNote == nil)
    }

    @Test func containerOwnerIsNamed() throws {
        let vms = try #require(try scan("proc").listeners.first { $0.port == 557 })
        let owner = try #require(vms.processes.first)
        #expect(owner.name == "vmsd")
        #expect(owner.container == "docker://" + String(repeating: "a", count: 40) + "0123456789abcdef01234567")
        #expect(!vms.hostNetns)
    }

    @Test func kernelSocketIsListedWithoutOwnersAndSaysWhy() throws {
        let rpc = try #require(try scan("proc").listeners.first { $0.port == 111 })
        #expect(rpc.processes.isEmpty)
        #expect(rpc.ownerNote?.contains("no process holds this socket") == true)
    }

    @Test func socketInNoTableIsUnresolvedWithItsOwner() throws {
        let snapshot = try scan("proc")
        #expect(snapshot.unresolved.map(\.inode) == [9999])
        #expect(snapshot.unresolved.first?.processes.map(\.pid) == [260])
        #expect(snapshot.unresolved.first?.reason.contains("not the live /proc") == true)
        #expect(!snapshot.complete)
    }

    @Test func brokenLinesAreSkippedWarnedAndMarkTheSnapshotIncomplete() throws {
        let snapshot = try scan("proc-broken")
        #expect(!snapshot.complete)
        #expect(snapshot.listeners.map(\.port) == [22, 631])
        let joined = snapshot.warnings.joined(separator: "\n")
        #expect(joined.contains("proc-broken/1/net/tcp:3:"))
        #expect(joined.contains("proc-broken/1/net/tcp:4:"))
        #expect(joined.contains("proc-broken/1/net/tcp6:2:"))
        #expect(joined.contains("proc-broken/200/status:2:"))
        #expect(joined.contains("proc-broken/250/cgroup:1:"))
        #expect(joined.contains("udp unreadable"))
        // A malformed status still leaves an owner, from comm and the directory's owner.
        let ssh = try #require(snapshot.listeners.first { $0.port == 22 })
        #expect(ssh.processes.map(\.name) == ["sshd"])
    }

    @Test func missingRootFailsWithTheReason() {
        #expect(throws: ProcFSError.notFound("/nonexistent/proc/")) {
            try ListenerScan(procfs: ProcFS(root: "/nonexistent/proc")).run()
        }
    }
}
