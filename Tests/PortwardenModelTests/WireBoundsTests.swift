import Glibc
import Testing
@testable import PortwardenModel

/// Every range and every bound of a report (docs/wire-format.md, "Bounds" and
/// "Validation"): the value just inside is accepted and survives the writer and the
/// reader again; the value just past is refused with its byte offset and key path.
struct WireBoundsTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        /// Where a refusal points; nil when the change is accepted.
        let refusedAt: String?
        let change: @Sendable (inout Snapshot) -> Void

        var testDescription: String { name }

        static func inside(_ name: String, _ change: @escaping @Sendable (inout Snapshot) -> Void) -> Case {
            Case(name: name + ", just inside", refusedAt: nil, change: change)
        }

        static func past(_ name: String, at path: String, _ change: @escaping @Sendable (inout Snapshot) -> Void) -> Case {
            Case(name: name + ", just past", refusedAt: path, change: change)
        }
    }

    static var base: Snapshot { WireFormatTests.snapshot }
    static var owner: Owner { WireFormatTests.owner }
    static let int64Max = UInt64(Int64.max)

    static func text(_ bytes: Int, _ unit: String = "a") -> String { String(repeating: unit, count: bytes / unit.utf8.count) }

    static func listener(_ port: UInt16) -> Listener {
        Listener(transport: .tcp, family: .ipv4, address: "10.0.0.1", port: port, scope: .specific, netns: 1, hostNetns: true,
                 inode: UInt64(port), uid: 0, processes: [])
    }

    static let ranges: [Case] = [
        .inside("sequence Int64.max") { $0.sequence = int64Max },
        .past("sequence Int64.max + 1", at: "sequence") { $0.sequence = int64Max + 1 },
        .past("sequence 2^64 - 1", at: "sequence") { $0.sequence = .max },
        .inside("namespace inode Int64.max") { $0.namespaces[0].inode = int64Max },
        .past("namespace inode", at: "namespaces.0.inode") { $0.namespaces[0].inode = int64Max + 1 },
        .inside("namespace processes 0") { $0.namespaces[0].processes = 0 },
        .past("namespace processes -1", at: "namespaces.0.processes") { $0.namespaces[0].processes = -1 },
        .inside("tables_from 1") { $0.namespaces[0].tablesFrom = 1 },
        .past("tables_from 0", at: "namespaces.0.tables_from") { $0.namespaces[0].tablesFrom = 0 },
        .inside("netns Int64.max") { $0.listeners[0].netns = int64Max },
        .past("netns", at: "listeners.0.netns") { $0.listeners[0].netns = int64Max + 1 },
        .inside("listener inode Int64.max") { $0.listeners[0].inode = int64Max },
        .past("listener inode", at: "listeners.0.inode") { $0.listeners[0].inode = .max },
        .inside("unresolved inode Int64.max") { $0.unresolved[0].inode = int64Max },
        .past("unresolved inode", at: "unresolved.0.inode") { $0.unresolved[0].inode = int64Max + 1 },
        .inside("pid 1") { $0.listeners[0].processes[0].pid = 1 },
        .past("pid 0", at: "listeners.0.processes.0.pid") { $0.listeners[0].processes[0].pid = 0 },
        .past("pid -1", at: "unresolved.0.processes.0.pid") { $0.unresolved[0].processes[0].pid = -1 },
        .inside("a namespace read in full, inode 0 and Int64.max") { $0.completeNamespaces = [0, int64Max] },
        .past("a namespace read in full, inode Int64.max + 1", at: "complete_namespaces.1") {
            $0.completeNamespaces = [1, int64Max + 1]
        },
        .inside("port 65535 and uid 2^32 - 1") { $0.listeners[0].port = .max; $0.listeners[0].uid = .max },
    ]

    static let bounds: [Case] = [
        .inside("a process name of stringBytes") { $0.listeners[0].processes[0].name = text(WireLimits.stringBytes) },
        .past("a process name", at: "listeners.0.processes.0.name") {
            $0.listeners[0].processes[0].name = text(WireLimits.stringBytes + 1)
        },
        .inside("an exe of stringBytes, two bytes a character") { $0.listeners[0].processes[0].exe = text(WireLimits.stringBytes, "é") },
        .past("an exe, two bytes a character", at: "listeners.0.processes.0.exe") {
            $0.listeners[0].processes[0].exe = text(WireLimits.stringBytes, "é") + "a"
        },
        .past("a host name", at: "host.hostname") { $0.host.hostname = text(WireLimits.stringBytes + 1) },
        .past("a warning", at: "warnings.0") { $0.warnings[0] = text(WireLimits.stringBytes + 1) },
        .past("a label value", at: "host.labels.role") { $0.host.labels!["role"] = text(WireLimits.stringBytes + 1) },
        .past("an owner note", at: "listeners.1.owner_note") { $0.listeners[1].ownerNote = text(WireLimits.stringBytes + 1) },
        .past("an unresolved socket's reason", at: "unresolved.0.reason") { $0.unresolved[0].reason = text(WireLimits.stringBytes + 1) },
        // Two arguments and a NUL after each: 2,048 + 2,048 bytes.
        .inside("a command line of cmdlineBytes") {
            $0.listeners[0].processes[0].cmdline = [text(WireLimits.cmdlineBytes / 2 - 1), text(WireLimits.cmdlineBytes / 2 - 1)]
        },
        .past("a command line", at: "listeners.0.processes.0.cmdline.1") {
            $0.listeners[0].processes[0].cmdline = [text(WireLimits.cmdlineBytes / 2 - 1), text(WireLimits.cmdlineBytes / 2)]
        },
        .inside("owners of a listener") { $0.listeners[0].processes = Array(repeating: owner, count: WireLimits.ownersPerListener) },
        .past("owners of a listener", at: "listeners.0.processes.\(WireLimits.ownersPerListener)") {
            $0.listeners[0].processes = Array(repeating: owner, count: WireLimits.ownersPerListener + 1)
        },
        .past("owners of an unresolved socket", at: "unresolved.0.processes.\(WireLimits.ownersPerListener)") {
            $0.unresolved[0].processes = Array(repeating: owner, count: WireLimits.ownersPerListener + 1)
        },
        .inside("listeners") { $0.listeners = (0..<WireLimits.listenersPerReport).map { listener(UInt16($0)) } },
        .past("listeners", at: "listeners.\(WireLimits.listenersPerReport)") {
            $0.listeners = (0...WireLimits.listenersPerReport).map { listener(UInt16($0)) }
        },
        .inside("unresolved sockets") {
            $0.unresolved = Array(repeating: UnresolvedSocket(inode: 1, kind: nil, processes: [], reason: "r"),
                                  count: WireLimits.unresolvedPerReport)
        },
        .past("unresolved sockets", at: "unresolved.\(WireLimits.unresolvedPerReport)") {
            $0.unresolved = Array(repeating: UnresolvedSocket(inode: 1, kind: nil, processes: [], reason: "r"),
                                  count: WireLimits.unresolvedPerReport + 1)
        },
        .inside("namespaces") {
            $0.namespaces = Array(repeating: NetworkNamespace(inode: 1, host: false, processes: 0, tablesFrom: nil),
                                  count: WireLimits.namespacesPerReport)
        },
        .past("namespaces", at: "namespaces.\(WireLimits.namespacesPerReport)") {
            $0.namespaces = Array(repeating: NetworkNamespace(inode: 1, host: false, processes: 0, tablesFrom: nil),
                                  count: WireLimits.namespacesPerReport + 1)
        },
        .inside("namespaces read in full") { $0.completeNamespaces = Array(repeating: 1, count: WireLimits.namespacesPerReport) },
        .past("namespaces read in full", at: "complete_namespaces.\(WireLimits.namespacesPerReport)") {
            $0.completeNamespaces = Array(repeating: 1, count: WireLimits.namespacesPerReport + 1)
        },
        .inside("warnings") { $0.warnings = Array(repeating: "w", count: WireLimits.warningsPerReport) },
        .past("warnings", at: "warnings.\(WireLimits.warningsPerReport)") {
            $0.warnings = Array(repeating: "w", count: WireLimits.warningsPerReport + 1)
        },
        .inside("labels") {
            $0.host.labels = Dictionary(uniqueKeysWithValues: (0..<WireLimits.labelsPerHost).map { ("k\($0)", "v") })
        },
        // Keys are written sorted (k0, k1, k10, …): the one past the bound is the 65th of those.
        .past("labels", at: "host.labels." + (0...WireLimits.labelsPerHost).map { "k\($0)" }.sorted()[WireLimits.labelsPerHost]) {
            $0.host.labels = Dictionary(uniqueKeysWithValues: (0...WireLimits.labelsPerHost).map { ("k\($0)", "v") })
        },
    ]

    @Test(arguments: ranges + bounds)
    func insideIsKeptAndPastIsRefusedWithItsPlace(_ test: Case) throws {
        var snapshot = Self.base
        test.change(&snapshot)
        let bytes = WireFormatTests.written(snapshot)
        guard let path = test.refusedAt else {
            let read = try Snapshot(wire: bytes)
            #expect(read == snapshot, "accepted as sent")
            #expect(try Snapshot(wire: WireFormatTests.written(read)) == read)
            return
        }
        do {
            _ = try Snapshot(wire: bytes)
            Issue.record("accepted")
        } catch {
            #expect(error.path == path, "\(error)")
            #expect(error.offset > 0 && error.offset < bytes.count, "\(error)")
        }
    }

    @Test func aHugeSequenceNamesTheKeyAndTheRange() {
        var snapshot = Self.base
        snapshot.sequence = .max
        let bytes = WireFormatTests.written(snapshot)
        let offset = Array(bytes).firstRange(of: Array("18446744073709551615".utf8))!.lowerBound
        #expect(throws: WireError(offset: offset, path: "sequence",
                                  message: "18446744073709551615 is out of range 0...9223372036854775807")) {
            try Snapshot(wire: bytes)
        }
    }

    /// A namespace read in full is named as a listener's `netns` is: an inode. Anything
    /// else there is refused where it stands, so no list can claim a namespace no
    /// listener could be in.
    /// `at`: the refusal's offset from where the value begins.
    @Test(arguments: [(#"["host"]"#, "complete_namespaces.0", 1), (#"[-1]"#, "complete_namespaces.0", 1),
                      (#"[1.5]"#, "complete_namespaces.0", 2), (#"[1,{"inode":2}]"#, "complete_namespaces.1", 3),
                      (#"4026532500"#, "complete_namespaces", 0), (#""4026532500""#, "complete_namespaces", 0),
                      (#"[true]"#, "complete_namespaces.0", 1)])
    func aNamespaceReadInFullMustBeAnInode(_ value: String, _ path: String, _ at: Int) throws {
        let text = String(decoding: WireFormatTests.written(Self.base), as: UTF8.self)
        let sent = #""complete_namespaces":[4026532500]"#
        #expect(text.contains(sent))
        let bytes = Array(text.replacingOccurrences(of: sent, with: #""complete_namespaces":"# + value).utf8)
        do {
            _ = try Snapshot(wire: bytes)
            Issue.record("accepted \(value)")
        } catch {
            #expect(error.path == path, "\(error)")
            let start = Array(text.utf8).firstRange(of: Array(sent.utf8))!.lowerBound + #""complete_namespaces":"#.utf8.count
            #expect(error.offset == start + at, "\(error)")
        }
    }

    /// What a host's processes call themselves is never a reason to refuse its report.
    @Test func processTextIsKeptAsSent() throws {
        var snapshot = Self.base
        let hostile = "=1+1+cmd|' /C calc'!A0\u{1B}[2J<b>\u{202E}\n\r\t\"\\\u{0}"
        snapshot.listeners[0].processes[0].name = hostile
        snapshot.listeners[0].processes[0].cmdline = [hostile, "--password=S3cret"]
        snapshot.listeners[0].processes[0].unit = hostile
        snapshot.host.labels = [hostile: hostile]
        // NUL alone is replaced (U+FFFD): PostgreSQL's text cannot store it, and no /proc text holds one.
        var kept = snapshot
        let replaced = hostile.replacing("\u{0}", with: "\u{FFFD}")
        kept.listeners[0].processes[0].name = replaced
        kept.listeners[0].processes[0].cmdline = [replaced, "--password=S3cret"]
        kept.listeners[0].processes[0].unit = replaced
        kept.host.labels = [replaced: replaced]
        #expect(try Snapshot(wire: WireFormatTests.written(snapshot)) == kept)
    }

    @Test(arguments: ["<b>0.0.0.0</b>", "=1+2", "", "0.0.0.0 ", "256.0.0.1", "fe80::1%eth0", "10.0.0.0/8", "::ffff:1.2.3"])
    func anAddressMustParse(_ address: String) throws {
        var snapshot = Self.base
        snapshot.listeners[0].address = address
        let bytes = WireFormatTests.written(snapshot)
        do {
            _ = try Snapshot(wire: bytes)
            Issue.record("accepted \(address)")
        } catch {
            #expect(error.path == "listeners.0.address" && error.message.contains("is not an IPv4 or IPv6 address"), "\(error)")
            #expect(Array(bytes[error.offset...]).starts(with: Array("\"".utf8)), "the offset points at the string: \(error)")
        }
    }

    @Test func scopeAndFamilyAreTheAddresss() {
        var lie = Self.base
        lie.listeners[0].scope = .loopback  // 0.0.0.0
        #expect(throws: WireError.self) { try Snapshot(wire: WireFormatTests.written(lie)) }
        do { _ = try Snapshot(wire: WireFormatTests.written(lie)) } catch {
            #expect(error.path == "listeners.0")
            #expect(error.message == "the listener tcp 0.0.0.0:557 says scope loopback; bound to 0.0.0.0 it is any")
        }
        var family = Self.base
        family.listeners[1].family = .ipv4  // ::ffff:127.0.0.1
        do { _ = try Snapshot(wire: WireFormatTests.written(family)); Issue.record("accepted") } catch {
            #expect(error.path == "listeners.1" && error.message.contains("says family ipv4; its address is ipv6"), "\(error)")
        }
    }

    @Test func addressesAreKeptInTheirCanonicalText() throws {
        var snapshot = Self.base
        snapshot.listeners[0].address = "000.0.0.00"
        snapshot.listeners[1].address = "0:0:0:0:0:FFFF:7F00:0001"
        let read = try Snapshot(wire: WireFormatTests.written(snapshot))
        #expect(read.listeners.map(\.address) == ["0.0.0.0", "::ffff:127.0.0.1"])
    }
}

/// A report's time names a real instant, or it is refused.
struct TimestampParsingTests {
    @Test(arguments: [
        ("2026-11-25T14:00:52Z", Int64(1_795_615_252)), ("1970-01-01T00:00:00Z", 0), ("2024-02-29T00:00:00Z", 1_709_164_800),
        ("2026-11-25T15:00:52+01:00", 1_795_615_252), ("2026-11-25T14:00:52.999Z", 1_795_615_252),
        ("2026-11-25t14:00:52z", 1_795_615_252), ("9999-12-31T23:59:59Z", 253_402_300_799),
    ])
    func realInstantsRead(text: String, seconds: Int64) {
        #expect(Timestamp.seconds(rfc3339: text) == seconds)
    }

    @Test(arguments: [
        "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-25T24:00:00Z",
        "2026-11-25T12:00:60Z", "2026-11-25T12:60:00Z", "2026-11-25 14:00:52Z", "2026-11-25T14:00:52",
        "2026-11-25T14:00:52+1:00", "1969-12-31T23:59:59Z", "2026-11-25T14:00:52.Z", "2026-11-25T14:00:52Zjunk",
        "+2026-11-25T14:00:52Z", "", "٢٠٢٦-11-25T14:00:52Z",
    ])
    func whatIsNoInstantIsRefused(text: String) {
        #expect(Timestamp.seconds(rfc3339: text) == nil)
    }

    @Test func whatTheAgentWritesReadsBack() {
        for seconds in stride(from: 0, to: 4_000_000_000, by: 86_399 * 97) {
            #expect(Timestamp.seconds(rfc3339: Timestamp.rfc3339(Int64(seconds))) == Int64(seconds))
        }
    }
}
