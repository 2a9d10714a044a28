import Foundation
import Testing
@testable import Inventory
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

    /// `ss -H -tulne` before and after the scan: what both saw must be in the scan, and the
    /// scan may hold nothing in this namespace that neither saw.
    @Test func agreesWithSSInItsOwnNamespace() throws {
        let fixture = try ListenFixture(["tcp4:0.0.0.0:0", "udp6:[::]:0", "tcp6:[::1]:0"])
        defer { fixture.stop() }
        let before = try ssInodes()
        let snapshot = try scan()
        let after = try ssInodes()
        let netns = try ownNetns()
        let scanned = Set(snapshot.listeners.filter { $0.netns == netns }.map(\.inode))
        #expect(before.intersection(after).subtracting(scanned).isEmpty, "ss saw listeners the scan missed")
        #expect(scanned.subtracting(before.union(after)).isEmpty, "the scan reported listeners ss never saw")
        #expect(Set(fixture.sockets.map(\.inode)).isSubset(of: scanned))
    }

    func ssInodes() throws -> Set<UInt64> {
        let (status, output) = try run(["ss", "-H", "-tulne"])
        try #require(status == 0, "ss failed")
        return Set(output.split(separator: "\n").compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("ino:") }.flatMap { UInt64($0.dropFirst(4)) }
        })
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

    @Test func processesVanishingDuringTheScanNeverFailIt() async throws {
        let stop = Date().addingTimeInterval(2)
        let churn = Task.detached {
            var count = 0
            while Date() < stop {
                let fixtures = try (0..<8).map { _ in try ListenFixture(["--fork", "tcp4:127.0.0.1:0", "udp4:127.0.0.1:0"]) }
                fixtures.forEach { $0.stop() }
                count += 1
            }
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
