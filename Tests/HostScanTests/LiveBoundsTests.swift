import Foundation
import Testing
import PortwardenModel

/// The attack, live: a process of `nobody` with a megabyte of arguments, a password
/// among them, and 20 listeners, scanned by the real agent binary.
@Suite(.serialized)
struct LiveBoundsTests {
    @Test(.enabled(if: runningAsRoot, "scanning another user's process and becoming nobody need root"))
    func aMegabyteOfArgumentsUnderTwentyListenersIsRedactedCutAndWarned() throws {
        let megabyte = (0..<10).map { String(repeating: Character(UnicodeScalar(UInt8(97 + $0))), count: 100_000) }
        let fixture = try ListenFixture(Array(repeating: "tcp4:127.0.0.1:0", count: 20)
                                        + ["--", "--password=S3cret", "--token", "T0ken"] + megabyte,
                                        under: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        defer { fixture.stop() }
        let agent = ListenFixture.products.appendingPathComponent("portwarden-agent").path
        let scan = try Measured.run([agent, "scan", "--format", "json"])
        try #require(scan.status == 0, "\(scan.errors)")

        let text = String(decoding: scan.output, as: UTF8.self)
        #expect(!text.contains("S3cret") && !text.contains("T0ken") && !scan.errors.contains("S3cret"))
        let snapshot = try JSONDecoder().decode(Snapshot.self, from: Data(scan.output))
        let held = Set(fixture.sockets.map(\.inode))
        let listeners = snapshot.listeners.filter { held.contains($0.inode) }
        #expect(listeners.count == 20)
        for listener in listeners {
            let owner = try #require(listener.processes.first)
            #expect(owner.pid == fixture.pid && owner.uid == 65534)
            #expect(owner.cmdline.suffix(4) == ["--password=<redacted>", "--token", "<redacted>", WireLimits.truncationMarker])
            #expect(WireLimits.size(ofArguments: owner.cmdline) <= WireLimits.cmdlineBytes)
        }
        #expect(snapshot.warnings.contains { $0.hasPrefix("command lines longer than 4096 bytes were cut: pid") && $0.contains("\(fixture.pid)") })
        var writer = JSONWriter()
        writer.value(listeners)
        #expect(writer.buffer.count < 32 << 10, "20 listeners and their owner: \(writer.buffer.count) bytes")
        // The shipped unit's MemoryMax is 64M; a debug build is larger than the release agent.
        #expect(scan.peakRSSKiB < 64 << 10, "peak RSS \(scan.peakRSSKiB) KiB")
    }
}
