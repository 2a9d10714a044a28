import Foundation
import Testing
@testable import HostScan
import PortwardenModel
import ProcFS

/// Real sockets, the live /proc, and `ss` as the reference. Serialized: the `ss`
/// cross-check compares whole namespaces, so no other test may open sockets meanwhile.
@Suite(.serialized)
struct LiveScanTests {
    func scan() throws -> Snapshot { try ListenerScan().run() }

    func ownNetns() throws -> UInt64 { try ProcFS().networkNamespace(of: "self") }

    @Test func realSocketsAppearWithTheirOwnersScopeAndPort() throws {
        let fixture = try ListenFixture(["--fork", "tcp4:0.0.0.0:0", "tcp6:[::]:0", "udp4:127.0.0.1:0",
                                         "udp6:[::1]:0", "tcp6:[::ffff:127.0.0.1]:0", "tcp4:127.0.0.2:0"])
        defer { fixture.stop() }
        let snapshot = try scan()
        let expected: [(String, Transport, AddressFamily, ExposureScope)] = [
            ("0.0.0.0", .tcp, .ipv4, .any), ("::", .tcp, .ipv6, .any), ("127.0.0.1", .udp, .ipv4, .loopback),
            ("::1", .udp, .ipv6, .loopback), ("::ffff:127.0.0.1", .tcp, .ipv6, .loopback),
            ("127.0.0.2", .tcp, .ipv4, .loopback),
        ]
        for (socket, (address, transport, family, scope)) in zip(fixture.sockets, expected) {
            let found = try #require(snapshot.listeners.first { $0.inode == socket.inode }, "\(socket)")
            #expect(found.address == address)
            #expect(found.port == socket.port)
            #expect(found.transport == transport)
            #expect(found.family == family)
            #expect(found.scope == scope)
            #expect(found.netns == (try ownNetns()))
            #expect(found.foundBy == .procfs)
            #expect(found.processes.map(\.pid) == fixture.holders, "parent and forked child both hold it")
            #expect(found.processes.first?.name == "listen-fixture")
            #expect(found.processes.first?.cmdline.last == "tcp4:127.0.0.2:0")
            #expect(found.processes.first?.exe?.hasSuffix("/listen-fixture") == true)
            #expect(found.processes.first?.uid == getuid())
        }
    }

    /// `ss -H -tulne` before and after a scan, all inside a network namespace of the
    /// test's own (other suites open sockets in the host's while this runs): what both
    /// `ss` runs saw must be in the scan, and the scan may hold nothing in that namespace
    /// that neither saw.
    @Test(.enabled(if: namespacesAvailable, "this kernel refuses new network namespaces (unshare --net)"))
    func agreesWithSSInItsOwnNamespace() throws {
        let fixture = ListenFixture.products.appendingPathComponent("listen-fixture").path
        let agent = ListenFixture.products.appendingPathComponent("portwarden-agent").path
        let script = """
            ip link set lo up
            "\(fixture)" --fork tcp4:0.0.0.0:0 udp6:[::]:0 tcp6:[::1]:0 tcp4:127.0.0.1:557 udp4:0.0.0.0:55 > /dev/null 2>&1 &
            sleep 0.3
            echo "netns $(readlink /proc/self/ns/net)"
            ss -H -tulne | sed 's/^/before /'
            "\(agent)" scan --format json 2>/dev/null | sed 's/^/scan /'
            ss -H -tulne | sed 's/^/after /'
            kill $!
            """
        let (status, output) = try run(["unshare", "--net", "--", "sh", "-c", script])
        try #require(status == 0, "\(output)")
        var lines: [String: [String]] = [:]
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            lines[parts[0], default: []].append(parts.count > 1 ? parts[1] : "")
        }
        let netns = try #require(lines["netns"]?.first.flatMap { InodeLink.inode(Array($0.utf8), kind: "net") })
        let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(try #require(lines["scan"]?.first).utf8))
        let before = Self.inodes(lines["before"] ?? []), after = Self.inodes(lines["after"] ?? [])
        let scanned = Set(snapshot.listeners.filter { $0.netns == netns }.map(\.inode))
        #expect(before.count >= 5, "the fixture's five listeners are there: \(lines["before"] ?? [])")
        #expect(before.intersection(after).subtracting(scanned).isEmpty, "ss saw listeners the scan missed")
        #expect(scanned.subtracting(before.union(after)).isEmpty, "the scan reported listeners ss never saw")
        for listener in snapshot.listeners where listener.netns == netns {
            #expect(listener.processes.count == 2, "parent and child hold \(listener.port)")
        }
    }

    static func inodes(_ lines: [String]) -> Set<UInt64> {
        Set(lines.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("ino:") }.flatMap { UInt64($0.dropFirst(4)) }
        })
    }

    func ssInodes() throws -> Set<UInt64> {
        let (status, output) = try run(["ss", "-H", "-tulne"])
        try #require(status == 0, "ss failed")
        return Self.inodes(output.split(separator: "\n").map(String.init))
    }

    @Test(.enabled(if: namespacesAvailable, "this kernel refuses new network namespaces (unshare --net)"))
    func listenerInsideAnotherNamespaceIsReportedWithThatNamespace() throws {
        let fixture = try ListenFixture(["tcp4:0.0.0.0:557", "udp4:0.0.0.0:55"], under: ["unshare", "--net", "--"])
        defer { fixture.stop() }
        #expect(fixture.netns != (try ownNetns()))
        let snapshot = try scan()
        for socket in fixture.sockets {
            let found = try #require(snapshot.listeners.first { $0.inode == socket.inode })
            #expect(found.netns == fixture.netns)
            #expect(!found.hostNetns)
            #expect(found.port == socket.port)
            #expect(found.processes.map(\.pid) == [fixture.pid])
            #expect(found.foundBy == .procfs)
        }
        #expect(snapshot.namespaces.contains { $0.inode == fixture.netns && $0.tablesFrom == fixture.pid })
        // What the agent sees and ss cannot from here.
        #expect(try ssInodes().isDisjoint(with: fixture.sockets.map(\.inode)))
    }

    @Test(.enabled(if: namespacesAvailable && runningAsRoot, "needs root and network namespaces"))
    func listenerInANamespaceNoProcessIsInIsFoundThroughItsHolder() throws {
        let fixture = try ListenFixture(["--hidden-netns", "tcp4:0.0.0.0:557", "udp6:[::]:55"])
        defer { fixture.stop() }
        let snapshot = try scan()
        #expect(!snapshot.namespaces.contains { $0.inode == fixture.netns && $0.processes > 0 })
        for socket in fixture.sockets {
            let found = try #require(snapshot.listeners.first { $0.inode == socket.inode }, "hidden \(socket)")
            #expect(found.foundBy == .pidfd)
            #expect(found.netns == fixture.netns)
            #expect(found.port == socket.port)
            #expect(found.scope == .any)
            #expect(found.processes.map(\.pid) == [fixture.pid])
        }
        #expect(snapshot.unresolved.isEmpty)
    }

    /// `run` scans again and again with one `ListenerScan`: nothing of one scan may stand
    /// in for the next. A socket whose holders change between two scans (the forked child
    /// that also held it exits) is reported with the holders it has now.
    @Test func aSecondScanInTheSameProcessSeesTheHoldersAsTheyAreNow() throws {
        let fixture = try ListenFixture(["--fork", "tcp4:127.0.0.1:0"])
        defer { fixture.stop() }
        let socket = try #require(fixture.sockets.first)
        let scanner = ListenerScan()
        let before = try #require(try scanner.run().listeners.first { $0.inode == socket.inode })
        #expect(before.processes.map(\.pid) == fixture.holders)
        kill(fixture.child, SIGKILL)
        // The child stays a zombie (its parent does not reap it), holding nothing.
        func childHolds() -> Bool {
            var held = false
            try? ProcFS().forEachSocket(pid: fixture.child) { _, inode in held = held || inode == socket.inode }
            return held
        }
        for _ in 0..<100 where childHolds() { usleep(10_000) }
        let after = try #require(try scanner.run().listeners.first { $0.inode == socket.inode })
        #expect(after.processes.map(\.pid) == [fixture.pid])
    }

    @Test func processesVanishingDuringTheScanNeverFailIt() async throws {
        let stop = Date().addingTimeInterval(2)
        // At least one round, however long starting processes takes on a busy machine.
        let churn = Task.detached {
            var count = 0
            repeat {
                let fixtures = try (0..<8).map { _ in try ListenFixture(["--fork", "tcp4:127.0.0.1:0", "udp4:127.0.0.1:0"]) }
                fixtures.forEach { $0.stop() }
                count += 1
            } while Date() < stop
            return count
        }
        var scans = 0
        while Date() < stop {
            let snapshot = try scan()
            #expect(snapshot.unresolved.isEmpty, "a closing socket must not look like a hiding one: \(snapshot.unresolved)")
            scans += 1
        }
        let rounds = try await churn.value
        #expect(scans > 0 && rounds > 0)
    }

    /// Run as nobody: the scan still lists this namespace's listeners, says that
    /// ownership is incomplete, and says why a root-held socket shows no owner.
    @Test(.enabled(if: runningAsRoot, "needs root to drop to another user"))
    func nonRootScanWorksAndSaysOwnershipIsIncomplete() throws {
        let fixture = try ListenFixture(["tcp4:127.0.0.1:0"])
        defer { fixture.stop() }
        // A copy nobody can execute, wherever the checkout lives.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pw-agent-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let copy = dir.appendingPathComponent("portwarden-agent").path
        try FileManager.default.copyItem(atPath: ListenFixture.products.appendingPathComponent("portwarden-agent").path,
                                         toPath: copy)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)

        let (status, output) = try run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                        copy, "scan", "--format", "json"])
        #expect(status == 0)
        let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(output.utf8))
        #expect(!snapshot.ownershipComplete)
        #expect(snapshot.warnings.contains { $0.contains("ownership is incomplete") })
        let socket = try #require(fixture.sockets.first)
        let seen = try #require(snapshot.listeners.first { $0.inode == socket.inode }, "root's listener, seen by nobody")
        #expect(seen.processes.isEmpty)
        #expect(seen.ownerNote?.contains("not root") == true)
    }
}
