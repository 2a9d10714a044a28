import Foundation
import Testing
@testable import HostScan
import PortwardenModel
import ProcFS

/// `complete_namespaces`: which namespaces a scan read in full, so that a collector may
/// close what is gone from them while something elsewhere on the host was hidden.
struct NamespaceCompletenessTests {
    static let host: UInt64 = 4026531840, container: UInt64 = 4026532500

    /// A copy of the `proc` fixture changed by `edit`, scanned.
    func scanEdited(_ edit: (String) throws -> Void) throws -> Snapshot {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("pw-ns-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.copyItem(atPath: FixtureScanTests.fixtures + "/proc", toPath: root)
        try edit(root)
        return try ListenerScan(procfs: ProcFS(root: root)).run()
    }

    @Test func bothNamespacesAreReadInFullThoughAnUnresolvedSocketMakesTheSnapshotIncomplete() throws {
        let snapshot = try ListenerScan(procfs: ProcFS(root: FixtureScanTests.fixtures + "/proc")).run()
        #expect(!snapshot.complete)
        #expect(snapshot.completeNamespaces == [Self.host, Self.container])
    }

    @Test func aNamespaceWithAnUnreadableTableIsNotListed() throws {
        let snapshot = try scanEdited { root in try FileManager.default.removeItem(atPath: root + "/300/net/udp") }
        #expect(snapshot.warnings.contains { $0.contains("netns \(Self.container): udp unreadable") })
        #expect(snapshot.namespaces.map(\.inode) == [Self.host, Self.container])
        #expect(snapshot.completeNamespaces == [Self.host])
    }

    @Test func aNamespaceWithASkippedLineIsNotListed() throws {
        let snapshot = try ListenerScan(procfs: ProcFS(root: FixtureScanTests.fixtures + "/proc-broken")).run()
        #expect(snapshot.warnings.contains { $0.contains("proc-broken/1/net/tcp:3:") })
        #expect(snapshot.completeNamespaces?.contains(Self.host) == false)
    }

    @Test func aProcessWhoseNamespaceCannotBeReadHidesItsNamespaceNotTheHosts() throws {
        // pid 300 is the only member of the container's namespace: without its link that
        // namespace is never found, its sockets are in no table read.
        let snapshot = try scanEdited { root in try FileManager.default.removeItem(atPath: root + "/300/ns/net") }
        #expect(!snapshot.complete)
        #expect(!snapshot.listeners.contains { $0.port == 557 })
        #expect(snapshot.completeNamespaces == [Self.host])
    }

    /// On this machine pid 1 hides its namespace from root, so every live snapshot is
    /// incomplete; the scan's own namespace is still read in full, and said to be.
    @Test func theLiveScanSaysItReadItsOwnNamespaceInFull() throws {
        let own = try ProcFS().networkNamespace(of: "self")
        let snapshot = try ListenerScan().run()
        #expect(snapshot.completeNamespaces?.contains(own) == true, "\(snapshot.warnings)")
        if (try? ProcFS().networkNamespace(of: "1")) == nil {
            #expect(!snapshot.complete, "a process's namespace unreadable: listeners elsewhere may be missing")
        }
        #expect(Set(snapshot.completeNamespaces ?? []).isSubset(of: snapshot.namespaces.map(\.inode)))
    }

    @Test func aNamespaceWithListenersLeftOutPastTheBoundIsNotListed() throws {
        var listeners: [Listener] = []
        for i in 0..<6 {
            let netns: UInt64 = i < 3 ? Self.host : Self.container
            listeners.append(Listener(.tcp, boundTo: .v4(127, 0, 0, 1), port: UInt16(2000 + i), netns: netns,
                                      hostNetns: Self.host, inode: UInt64(i + 1), uid: 1000, foundBy: .procfs))
        }
        let budget = ListenerBudget(&listeners, limit: 4)
        #expect(listeners.count == 4)
        #expect(budget.leftOutNamespaces == [Self.container])
    }
}
