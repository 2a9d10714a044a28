import Foundation
import Testing
@testable import PortwardenModel

/// The writer and the Decodable conformances describe one format; Foundation's own
/// JSON parser is the referee.
struct WireFormatTests {
    static let owner = Owner(pid: 812, name: "vmsd", exe: "/opt/vms/bin/vmsd (deleted)",
                             cmdline: ["/opt/vms/bin/vmsd", "--banner", "say \"hi\"\n\ttab\\slash\u{1}", "ünïcode"],
                             uid: 0, user: "root", unit: "vms.service", container: nil)
    static let snapshot = Snapshot(
        host: Host(hostname: "vms-gw-01", machineID: "3d1219c7c4c5404aaa1f6d2a48adfda4",
                   bootID: "5403510a-3d78-42a9-8f51-732ea48a05a0", kernel: "6.1.0-26-amd64", os: nil,
                   labels: ["role": "vms-gateway", "site": "fra \"2\""]),
        sequence: 42, collectedAt: "2026-11-25T14:00:52Z", complete: false, ownershipComplete: true,
        completeNamespaces: [4026532500], warnings: ["skipped /proc/1/net/tcp:3: expected …"],
        namespaces: [NetworkNamespace(inode: 4026531840, host: true, processes: 90, tablesFrom: 1),
                     NetworkNamespace(inode: 4026532500, host: false, processes: 0, tablesFrom: nil)],
        listeners: [
            Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: 557, scope: .any,
                     netns: 4026531840, hostNetns: true, inode: 123, uid: 0, processes: [owner]),
            Listener(transport: .udp, family: .ipv6, address: "::ffff:127.0.0.1", port: 55, scope: .loopback,
                     netns: 4026532500, hostNetns: false, inode: 124, uid: 65534, processes: [],
                     ownerNote: "no process holds this socket", foundBy: .pidfd),
        ],
        truncatedListeners: [ListenerSummary(uid: 1000, listeners: 964, protocols: [.tcp, .udp], scopes: [.loopback, .any],
                                             ports: "24036-24999,40000")],
        unresolved: [UnresolvedSocket(inode: 9, kind: "TCP", processes: [owner], reason: "pidfd_getfd refused")])

    static func written(_ snapshot: Snapshot, chunkSize: Int = 64 << 10) -> [UInt8] {
        var out: [UInt8] = []
        var writer = JSONWriter(chunkSize: chunkSize) { out += $0 }
        writer.value(snapshot)
        writer.flush()
        return out
    }

    @Test func roundTripsThroughFoundation() throws {
        let decoded = try JSONDecoder().decode(Snapshot.self, from: Data(Self.written(Self.snapshot)))
        #expect(decoded == Self.snapshot)
    }

    @Test func smallChunksWriteTheSameBytes() {
        #expect(Self.written(Self.snapshot, chunkSize: 16) == Self.written(Self.snapshot))
    }

    @Test func documentedKeysAndNullsArePresent() throws {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(Self.written(Self.snapshot))) as? [String: Any])
        #expect(object["schema"] as? Int == 1)
        #expect(Set(object.keys) == ["schema", "host", "sequence", "collected_at", "complete", "ownership_complete",
                                     "complete_namespaces", "warnings", "namespaces", "listeners", "truncated_listeners", "unresolved"])
        let host = try #require(object["host"] as? [String: Any])
        #expect(Set(host.keys) == ["hostname", "machine_id", "boot_id", "kernel", "os", "labels"])
        #expect(host["os"] is NSNull)
        #expect(host["labels"] as? [String: String] == ["role": "vms-gateway", "site": "fra \"2\""])
        let listener = try #require((object["listeners"] as? [[String: Any]])?.first)
        #expect(Set(listener.keys) == ["protocol", "family", "address", "port", "scope", "netns", "host_netns", "inode",
                                       "uid", "processes", "owner_note", "found_by"])
        #expect(listener["protocol"] as? String == "tcp")
        let process = try #require((listener["processes"] as? [[String: Any]])?.first)
        #expect(Set(process.keys) == ["pid", "name", "exe", "cmdline", "uid", "user", "unit", "container"])
        #expect(process["container"] is NSNull)
    }

    @Test func labelsAreNullWhenAbsentAndOptionalWhenReading() throws {
        var bare = Self.snapshot
        bare.host.labels = nil
        let text = String(decoding: Self.written(bare), as: UTF8.self)
        #expect(text.contains(#""os":null,"labels":null}"#))
        // An older agent sends no labels key at all: still a snapshot.
        let old = text.replacingOccurrences(of: #","labels":null"#, with: "")
        #expect(try JSONDecoder().decode(Snapshot.self, from: Data(old.utf8)) == bare)
        #expect(text.contains(#""labels""#) && !old.contains(#""labels""#))
    }

    @Test func truncatedListenersAreNullWhenNoneAndOptionalWhenReading() throws {
        let object = try JSONSerialization.jsonObject(with: Data(Self.written(Self.snapshot))) as? [String: Any]
        let summary = try #require(object?["truncated_listeners"] as? [[String: Any]])
        #expect(summary.first?["protocols"] as? [String] == ["tcp", "udp"] && summary.first?["ports"] as? String == "24036-24999,40000")
        var whole = Self.snapshot
        whole.truncatedListeners = nil
        let text = String(decoding: Self.written(whole), as: UTF8.self)
        #expect(text.contains(#""truncated_listeners":null"#))
        // An older agent sends no such key: still a snapshot, to both readers.
        let old = text.replacingOccurrences(of: #","truncated_listeners":null"#, with: "")
        #expect(!old.contains("truncated_listeners"))
        #expect(try JSONDecoder().decode(Snapshot.self, from: Data(old.utf8)) == whole)
        #expect(try Snapshot(wire: Array(old.utf8)) == whole)
    }

    @Test func completeNamespacesAreNullWhenUnsaidAndOptionalWhenReading() throws {
        let text = String(decoding: Self.written(Self.snapshot), as: UTF8.self)
        #expect(text.contains(#""ownership_complete":true,"complete_namespaces":[4026532500],"warnings""#))
        var unsaid = Self.snapshot
        unsaid.completeNamespaces = nil
        let null = String(decoding: Self.written(unsaid), as: UTF8.self)
        #expect(null.contains(#""complete_namespaces":null"#))
        // An older agent sends no such key: still a snapshot, to both readers, that says nothing.
        let old = null.replacingOccurrences(of: #","complete_namespaces":null"#, with: "")
        #expect(!old.contains("complete_namespaces"))
        #expect(try JSONDecoder().decode(Snapshot.self, from: Data(old.utf8)) == unsaid)
        #expect(try Snapshot(wire: Array(old.utf8)) == unsaid)
    }

    @Test func controlCharactersAreEscaped() {
        let text = String(decoding: Self.written(Self.snapshot), as: UTF8.self)
        #expect(text.contains(#""say \"hi\"\n\ttab\\slash\u0001""#))
        #expect(!text.contains("\n"))
    }
}
