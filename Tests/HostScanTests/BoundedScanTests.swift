import Foundation
import Testing
@testable import HostScan
import PortwardenModel
import ProcFS

/// Each bound of a report, just inside it and past it, on trees made at test time: what a
/// host's processes choose (command lines, names, how many sockets and holders) never
/// makes a report larger than `WireLimits` allows, and every cut is marked and warned.
struct BoundedScanTests {
    let marker = WireLimits.truncationMarker

    /// One process, pid 400, holding `listeners` listeners, with `cmdline` as its raw file.
    func scanOwner(cmdline: [UInt8], name: String = "app", listeners: Int = 1,
                   redaction: Redaction = Redaction()) throws -> (Owner, Snapshot) {
        let proc = try GeneratedProc()
        let sockets = (0..<listeners).map { proc.listener(port: UInt16(20_000 + $0), uid: 1000) }
        try proc.process(400, name: name, uid: 1000, cmdline: cmdline, sockets: sockets)
        let snapshot = try proc.scan(redaction)
        let owner = try #require(snapshot.listeners.first?.processes.first)
        return (owner, snapshot)
    }

    func raw(_ arguments: [String]) -> [UInt8] { arguments.flatMap { Array($0.utf8) + [0] } }

    func cmdlineWarning(_ snapshot: Snapshot) -> String? { snapshot.warnings.first { $0.hasPrefix("command lines longer") } }

    @Test func aCommandLineExactlyAtTheBoundIsSentWhole() throws {
        let arguments = ["/usr/bin/app", String(repeating: "a", count: 4_096 - 13 - 1)]
        #expect(raw(arguments).count == WireLimits.cmdlineBytes)
        let (owner, snapshot) = try scanOwner(cmdline: raw(arguments))
        #expect(owner.cmdline == arguments)
        #expect(cmdlineWarning(snapshot) == nil)
    }

    @Test func oneByteOverIsCutToTheBoundWithTheMarkerAndAWarningNamingThePid() throws {
        let arguments = ["/usr/bin/app", String(repeating: "a", count: 4_096 - 13)]
        let (owner, snapshot) = try scanOwner(cmdline: raw(arguments))
        #expect(owner.cmdline.last == marker)
        #expect(owner.cmdline.first == "/usr/bin/app")
        #expect(WireLimits.size(ofArguments: owner.cmdline) == WireLimits.cmdlineBytes)
        #expect(cmdlineWarning(snapshot) == "command lines longer than 4096 bytes were cut: pid 400")
        #expect(snapshot.complete, "a cut command line hides no listener")
    }

    @Test func aCharacterStraddlingTheCutIsLeftOutWhole() throws {
        // 4,001 + 96 = 4,097 bytes: the cut at 4,081 falls inside "é".
        let arguments = [String(repeating: "a", count: 4_000), String(repeating: "b", count: 78) + "é" + String(repeating: "c", count: 15)]
        #expect(raw(arguments).count == WireLimits.cmdlineBytes + 1)
        let (owner, _) = try scanOwner(cmdline: raw(arguments))
        #expect(owner.cmdline == [arguments[0], String(repeating: "b", count: 78), marker])
        #expect(WireLimits.size(ofArguments: owner.cmdline) == WireLimits.cmdlineBytes - 1)
    }

    @Test func bytesThatAreNotUTF8AreBoundedAsTheyAreSent() throws {
        // 2,000 bytes on disk, 6,000 once each became U+FFFD.
        let (owner, snapshot) = try scanOwner(cmdline: [UInt8](repeating: 0xFF, count: 2_000) + [0])
        #expect(WireLimits.size(ofArguments: owner.cmdline) <= WireLimits.cmdlineBytes)
        #expect(owner.cmdline.last == marker)
        #expect(cmdlineWarning(snapshot) != nil)
    }

    @Test func aMegabyteCommandLineIsReadOnlyAsFarAsTheBoundAndRedacted() throws {
        // The argument the read ends inside is left out whole: half a secret is still a secret.
        let arguments = ["/usr/bin/app", "--password=S3cret", "--token", "T0ken"]
            + (0..<11).map { String(repeating: Character(UnicodeScalar(UInt8(97 + $0))), count: 100_000) }
        #expect(raw(arguments).count > 1 << 20)
        let (owner, snapshot) = try scanOwner(cmdline: raw(arguments), listeners: 20)
        #expect(owner.cmdline == ["/usr/bin/app", "--password=<redacted>", "--token", "<redacted>", marker])
        #expect(cmdlineWarning(snapshot) == "command lines longer than 4096 bytes were cut: pid 400")
        #expect(snapshot.listeners.count == 20)
        let json = String(decoding: Self.json(snapshot), as: UTF8.self)
        #expect(!json.contains("S3cret") && !json.contains("T0ken"))
        #expect(json.utf8.count < 20 * 1_024, "the owner's cmdline is small, repeated under 20 listeners")
    }

    @Test func theProcessNameUnitAndOtherStringsAreCutToTheirBound() throws {
        let proc = try GeneratedProc()
        let inode = proc.listener(port: 8080, uid: 1000)
        try proc.process(400, name: String(repeating: "n", count: 5_000), uid: 1000, cmdline: raw(["app"]), sockets: [inode])
        try proc.write("400/cgroup", "0::/system.slice/" + String(repeating: "u", count: 5_000) + ".service\n")
        let owner = try #require(try proc.scan().listeners.first?.processes.first)
        #expect(owner.name.utf8.count == WireLimits.stringBytes && owner.name.hasSuffix(marker))
        #expect(owner.unit?.utf8.count == WireLimits.stringBytes && owner.unit?.hasSuffix(marker) == true)
        #expect(owner.cmdline == ["app"])
    }

    @Test func aSecretInTheProcessNameOrAConfiguredNameIsRedacted() throws {
        let (owner, _) = try scanOwner(cmdline: raw(["app", "--vault-seed", "abc", "-pS3cret"]), name: "PGPASSWORD=abc",
                                       redaction: try Redaction(adding: ["vault-seed"]))
        #expect(owner.name == "PGPASSWORD=<redacted>")
        #expect(owner.cmdline == ["app", "--vault-seed", "<redacted>", "-pS3cret"], "-p is mysql's, not app's")
    }

    @Test func holdersPastTheBoundAreCountedInTheOwnerNote() throws {
        let proc = try GeneratedProc()
        let atBound = proc.listener(port: 80, uid: 0), past = proc.listener(port: 443, uid: 0)
        for pid in Int32(1_000)..<1_256 {
            try proc.process(pid, name: "worker", uid: 33, cmdline: raw(["worker"]), sockets: [atBound, past])
        }
        // Holders past the bound are never read: a descriptor is all they need here.
        for pid in Int32(1_256)..<1_300 { try proc.holder(pid, sockets: [past]) }
        let listeners = try proc.scan().listeners
        for (listener, note) in zip(listeners, [nil, "44 more processes hold it; the first 256 by pid are listed"]) {
            #expect(listener.processes.count == WireLimits.ownersPerListener)
            #expect(listener.processes.first?.pid == 1_000 && listener.processes.last?.pid == 1_255)
            #expect(listener.ownerNote == note)
        }
    }

    /// The attack on memory, at a test's size: a process of `nobody` holding 500
    /// listeners forks 64 children that inherit them (32,500 holder entries), beside sshd
    /// (port 22, three processes) and a root nginx (port 8080, a master and 8 workers).
    /// The report lists at most `ownersPerReport` owners in all: the privileged sockets
    /// all of theirs, every socket its first holder, the rest shared evenly; each
    /// owner_note counts what was left out.
    @Test func forkedHoldersOfManyListenersAreBoundedInTotalPrivilegedFirst() throws {
        let proc = try GeneratedProc()
        let ssh = proc.listener(port: 22, uid: 0), web = proc.listener(port: 8080, uid: 0)
        for pid in Int32(200)..<203 { try proc.process(pid, name: "sshd", uid: 0, cmdline: raw(["sshd"]), sockets: [ssh]) }
        // nginx started after the attacker's processes: walked after them.
        for pid in Int32(9_000)..<9_009 { try proc.process(pid, name: "nginx", uid: 0, cmdline: raw(["nginx"]), sockets: [web]) }
        let held = (0..<500).map { proc.listener(port: UInt16(30_000 + $0), uid: 65534, loopback: true) }
        for pid in Int32(5_000)..<5_065 {
            try proc.process(pid, name: "holder", uid: 65534, cmdline: raw(["holder", String(repeating: "x", count: 1_000)]), sockets: held)
        }
        let snapshot = try proc.scan()
        #expect(snapshot.listeners.count == 502)
        #expect(snapshot.listeners.reduce(0) { $0 + $1.processes.count } == WireLimits.ownersPerReport)
        let privileged = snapshot.listeners.filter { $0.uid == 0 }
        #expect(privileged.map(\.processes.count) == [3, 9] && privileged.allSatisfy { $0.ownerNote == nil })
        let attacker = snapshot.listeners.filter { $0.uid == 65534 }
        // 4,096 - 12 privileged = 4,084 for 500 sockets: 8 each, 9 for the last 84.
        #expect(Set(attacker.map(\.processes.count)) == [8, 9], "\(Set(attacker.map(\.processes.count)))")
        #expect(attacker.allSatisfy { $0.processes.first?.pid == 5_000 }, "the first holder, the parent, everywhere")
        #expect(attacker.first?.ownerNote
                == "57 more processes hold it; the first 8 by pid are listed: a report lists at most 4096 processes in all, shared among its sockets")
        #expect(snapshot.warnings.contains { $0.hasPrefix("owners are listed in part") && $0.contains("28416 holder entries of 500 sockets") },
                "\(snapshot.warnings)")
        #expect(snapshot.complete, "every listener is sent: none is hidden")
        #expect(Self.json(snapshot).count < 8 << 20, "4,096 owners of ~1 KiB")

        // The walk keeps 32,512 descriptors here; with room for 1,000 it keeps sshd's and
        // the first holder's, counts the rest, and reads again only the holders listed:
        // the same report, nginx's workers included.
        let bounded = try ListenerScan(procfs: proc.procfs, redaction: Redaction(), descriptorRoom: 1_000).run()
        #expect(bounded.listeners == snapshot.listeners)
        #expect(bounded.warnings == snapshot.warnings)
    }

    /// 5,000 listeners of uid 1000 on high ports, 30 of its own below 1024, 20 of root's on
    /// high ports, 10 of uid 1001: the report holds 4,096.
    @Test func pastTheListenerBoundPrivilegedOnesGoInFullAndTheRestIsSummarisedPerUid() throws {
        let proc = try GeneratedProc()
        for port in 20_000..<25_000 { proc.listener(port: UInt16(port), uid: 1000) }
        for port in 100..<130 { proc.listener(.udp, port: UInt16(port), uid: 1000) }
        for port in 40_000..<40_020 { proc.listener(port: UInt16(port), uid: 0, loopback: true) }
        for port in 30_000..<30_010 { proc.listener(port: UInt16(port), uid: 1001) }
        let snapshot = try proc.scan()
        #expect(snapshot.listeners.count == WireLimits.listenersPerReport)
        #expect(snapshot.listeners.filter { $0.port < 1024 }.count == 30)
        #expect(snapshot.listeners.filter { $0.uid == 0 }.count == 20)
        #expect(snapshot.listeners.filter { $0.uid == 1001 }.count == 10, "a user with few listeners keeps them all")
        let kept = 4_096 - 30 - 20 - 10
        #expect(snapshot.listeners.filter { $0.uid == 1000 && $0.port >= 1024 }.map(\.port).max() == UInt16(20_000 + kept - 1))
        #expect(snapshot.truncatedListeners == [
            ListenerSummary(uid: 1000, listeners: 5_000 - kept, protocols: [.tcp], scopes: [.any],
                            ports: "\(20_000 + kept)-24999"),
        ])
        #expect(!snapshot.complete, "the collector must not close what it was not sent")
        #expect(snapshot.warnings.contains { $0.contains("5060 listeners") && $0.contains("truncated_listeners (uid 1000: \(5_000 - kept))") })
        #expect(snapshot.listeners == snapshot.listeners.sorted(by: Listener.displayOrder))
    }

    @Test func atTheListenerBoundNothingIsSummarised() throws {
        let proc = try GeneratedProc()
        for port in 20_000..<(20_000 + WireLimits.listenersPerReport) { proc.listener(port: UInt16(port), uid: 1000) }
        let snapshot = try proc.scan()
        #expect(snapshot.listeners.count == WireLimits.listenersPerReport)
        #expect(snapshot.truncatedListeners == nil)
        #expect(snapshot.complete)
    }

    @Test func rootsOwnListenersPastTheBoundAreSummarisedToo() throws {
        let proc = try GeneratedProc()
        for port in 1..<5_001 { proc.listener(port: UInt16(port), uid: 0) }
        let snapshot = try proc.scan()
        #expect(snapshot.listeners.count == WireLimits.listenersPerReport)
        #expect(snapshot.listeners.last?.port == 4_096, "the lowest ports first")
        #expect(snapshot.truncatedListeners == [ListenerSummary(uid: 0, listeners: 904, protocols: [.tcp], scopes: [.any], ports: "4097-5000")])
    }

    @Test func unresolvedSocketsAndWarningsStayWithinTheirBounds() throws {
        let proc = try GeneratedProc()
        // Sockets in no table of a fixture tree cannot be asked: each is unresolved.
        try proc.process(400, name: "app", uid: 1000, cmdline: raw(["app"]), sockets: (1...1_100).map { UInt64($0) })
        let snapshot = try proc.scan()
        #expect(snapshot.unresolved.count == WireLimits.unresolvedPerReport)
        #expect(snapshot.warnings.count == WireLimits.warningsPerReport)
        // 1,024 unresolved sockets and one warning for the 76 left out: 1,025, of which 255 are kept.
        #expect(snapshot.warnings.last == "770 more warnings are left out: a report holds 256")
        #expect(!snapshot.complete)
    }

    static func json(_ snapshot: Snapshot) -> [UInt8] {
        var writer = JSONWriter()
        writer.value(snapshot)
        return writer.buffer
    }
}
