import AgentReporting
import PortwardenModel
import Testing

/// A snapshot over a byte limit loses owners' details, least useful first, and never a
/// listener; the warning in it says what went.
struct ReportTrimmingTests {
    static func owner(_ pid: Int32, cmdline: [String]) -> Owner {
        Owner(pid: pid, name: "proc\(pid)", exe: "/usr/bin/proc\(pid)", cmdline: cmdline, uid: 65534, user: "nobody",
              unit: "proc\(pid).service", container: nil)
    }

    /// One process with a 256 KiB command line holding 20 listeners, beside a small sshd
    /// (the was 1 MiB: a quarter keeps a debug build's test fast, and proves the same).
    static func blinding() -> Snapshot {
        let big = owner(4242, cmdline: ["python3", String(repeating: "A", count: 256 << 10)])
        let sshd = owner(1, cmdline: ["sshd", "-D"])
        let listeners = [Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: 22, scope: .any, netns: 1,
                                  hostNetns: true, inode: 1, uid: 0, processes: [sshd])]
            + (0..<20).map { (i: Int) -> Listener in
                Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: UInt16(40_000 + i), scope: .any, netns: 1,
                         hostNetns: true, inode: UInt64(100 + i), uid: 65534, processes: [big])
            }
        return Snapshot(host: Host(hostname: "web-01", machineID: nil, bootID: nil, kernel: nil, os: nil), sequence: 7,
                        collectedAt: "2026-11-25T10:00:00Z", complete: true, ownershipComplete: true,
                        warnings: ["an earlier warning"], namespaces: [], listeners: listeners, unresolved: [])
    }

    @Test func aSnapshotWithinTheLimitIsSentAsItIs() throws {
        var snapshot = Self.blinding()
        snapshot.listeners.removeLast(20)
        var writer = JSONWriter()
        writer.value(snapshot)
        let report = snapshot.wire(fitting: WireLimits.snapshotBytes)
        #expect(report.bytes == writer.buffer && report.warning == nil && report.fits)
    }

    @Test func commandLinesGoFirstLargestFirstAndEveryListenerStays() throws {
        let report = Self.blinding().wire(fitting: 64 << 10)
        #expect(report.fits && report.bytes.count <= 64 << 10, "\(report.bytes.count)")
        let sent = try Snapshot(wire: report.bytes)
        #expect(sent.listeners.map(\.port) == [22] + (40_000..<40_020).map(UInt16.init), "every listener is reported")
        #expect(sent.listeners[0].processes[0].cmdline == ["sshd", "-D"], "the small command line is kept")
        #expect(sent.listeners.dropFirst().allSatisfy { $0.processes[0].cmdline == [WireLimits.truncationMarker] })
        #expect(sent.listeners.dropFirst().allSatisfy { $0.processes[0].exe == "/usr/bin/proc4242" }, "nothing more than needed")
        #expect(sent.ownershipComplete && sent.sequence == 7)
        let warning = try #require(report.warning)
        #expect(sent.warnings == ["an earlier warning", warning])
        #expect(warning.hasPrefix("report trimmed from 52"), "\(warning)")
        #expect(warning.contains("to fit a limit of 65536 bytes: the command lines of 1 process (listed under 20 sockets) cut, largest first"),
                "\(warning)")
    }

    @Test func thenOwnersDetailsThenOwnersThemselves() throws {
        var snapshot = Self.blinding()
        // Many listeners with small command lines: cutting those is not enough.
        for i in 0..<200 {
            let owner = Self.owner(Int32(10 + i), cmdline: ["x"])
            snapshot.listeners.append(Listener(transport: .udp, family: .ipv6, address: "::", port: UInt16(50_000 + i), scope: .any,
                                               netns: 1, hostNetns: true, inode: UInt64(1_000 + i), uid: 0, processes: [owner]))
        }
        let bare = snapshot.listeners.map { listener in
            var listener = listener
            listener.processes = []
            return listener
        }
        var writer = JSONWriter()
        writer.value(bare)
        let limit = writer.buffer.count + 20_000
        let report = snapshot.wire(fitting: limit)
        #expect(report.fits && report.bytes.count <= limit)
        let sent = try Snapshot(wire: report.bytes)
        #expect(sent.listeners.count == 221)
        #expect(!sent.ownershipComplete, "listeners without their owners: ownership is incomplete")
        let stripped = sent.listeners.filter { $0.processes.isEmpty }
        #expect(!stripped.isEmpty && stripped.allSatisfy { $0.ownerNote?.contains("owners trimmed") == true })
        #expect(sent.listeners.contains { $0.processes.first?.exe == nil && $0.processes.first?.name != nil })
        let warning = try #require(report.warning)
        #expect(warning.contains("command lines of") && warning.contains("exe, user, unit and container of")
                && warning.contains("the owners of \(stripped.count) sockets removed"), "\(warning)")
    }

    @Test func aLimitBelowTheBareListenersCannotBeMet() throws {
        let report = Self.blinding().wire(fitting: 2_000)
        #expect(!report.fits && report.bytes.count > 2_000)
        #expect(try Snapshot(wire: report.bytes).listeners.count == 21, "still a snapshot, with every listener")
    }
}
