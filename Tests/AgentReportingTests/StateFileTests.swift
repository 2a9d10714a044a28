import AgentReporting
import Foundation
import PortwardenTestSupport
import StateFiles
import Testing

/// The agent runs as root: its state directory must be its own, and a link planted in
/// it must never redirect a write or feed a read.
struct StateFileTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-state-\(UUID().uuidString)").path
    /// What a planted link points at: must come out untouched.
    var target: String { directory + "-target" }

    func plantTarget() throws {
        try "precious\n".write(toFile: target, atomically: false, encoding: .utf8)
    }

    func targetIsUntouched() throws -> Bool {
        try String(contentsOfFile: target, encoding: .utf8) == "precious\n"
    }

    @Test func aLinkAtTheSequenceFileIsRefusedAndNothingWrittenThroughIt() throws {
        defer { try? FileManager.default.removeItem(atPath: directory); unlink(target) }
        let state = AgentState(directory: directory, sequenceFloor: { 0 })
        try state.prepare()
        try plantTarget()
        symlink(target, directory + "/sequence")
        let error = try #require(throws: AgentStateError.self) { try state.nextSequence() }
        #expect(error.description.contains("/sequence: a symbolic link or special file where a plain file belongs"), "\(error)")
        #expect(try targetIsUntouched())
        // Nor through the temporary file a write goes to first.
        unlink(directory + "/sequence")
        symlink(target, directory + "/sequence.tmp-\(getpid())")
        #expect(try state.nextSequence() == 1)
        #expect(try targetIsUntouched())
        #expect(try String(contentsOfFile: directory + "/sequence", encoding: .utf8) == "1\n")
    }

    @Test func aLinkInTheSpoolIsSetAsideUnreadAndAWriteReplacesRatherThanFollowsIt() throws {
        defer { try? FileManager.default.removeItem(atPath: directory); unlink(target) }
        let state = AgentState(directory: directory, sequenceFloor: { 0 })
        try state.prepare()
        try plantTarget()
        let spool = Spool(directory: state.spoolDirectory)
        symlink(target, state.spoolDirectory + "/00000000000000000001.json")
        let entry = try #require(spool.entries().first)
        #expect(throws: StateFile.Failed.self) { try spool.read(entry) }
        try spool.add(Array("{}".utf8), sequence: 1)  // the same name: the link is replaced
        #expect(try targetIsUntouched())
        #expect(try String(contentsOfFile: state.spoolDirectory + "/00000000000000000001.json", encoding: .utf8) == "{}")
        // A FIFO would hang a plain open: refused as well.
        mkfifo(state.spoolDirectory + "/00000000000000000002.json", 0o600)
        let fifo = try #require(spool.entries().last)
        #expect(throws: StateFile.Failed.self) { try spool.read(fifo) }
    }

    @Test func aGroupWritableStateDirectoryIsAClearError() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        chmod(directory, 0o775)
        let error = try #require(throws: AgentStateError.self) { try AgentState(directory: directory).prepare() }
        #expect(error.description.contains("is writable by its group or others (mode 0775)"), "\(error)")
        #expect(error.description.contains("run: chmod go-w \(directory)"), "\(error)")
        chmod(directory, 0o755)
        try AgentState(directory: directory).prepare()
    }

    @Test func aStateDirectoryOwnedBySomeoneElseIsAClearError() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        try #require(geteuid() == 0, "needs root to give the directory away")
        chown(directory, 65534, 65534)
        let error = try #require(throws: AgentStateError.self) { try AgentState(directory: directory).prepare() }
        #expect(error.description.contains("is owned by uid 65534, not root or this agent (uid 0)"), "\(error)")
        #expect(error.description.contains("run: chown 0 \(directory)"), "\(error)")
    }

    @Test func aLinkPlantedAsTheSpoolDirectoryIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: directory); try? FileManager.default.removeItem(atPath: target) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: false)
        symlink(target, directory + "/spool")
        let error = try #require(throws: AgentStateError.self) { try AgentState(directory: directory).prepare() }
        #expect(error.description.contains("/spool is not a directory"), "\(error)")
    }

    @Test func aSequenceFileOfJunkIsAnErrorNotZero() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = AgentState(directory: directory, sequenceFloor: { 0 })
        try state.prepare()
        try "41\n".write(toFile: directory + "/sequence", atomically: true, encoding: .utf8)
        #expect(try state.nextSequence() == 42)
        try "junk\n".write(toFile: directory + "/sequence", atomically: true, encoding: .utf8)
        #expect(throws: AgentStateError.self) { try state.nextSequence() }
        try "\(Int64.max)\n".write(toFile: directory + "/sequence", atomically: true, encoding: .utf8)
        #expect(throws: AgentStateError.self, "past what the collector stores: an error, not a trap") { try state.nextSequence() }
    }

    /// A reinstalled agent (its state gone) or one rolled back with its VM numbers past
    /// everything an earlier state handed out: the collector would otherwise take each new
    /// snapshot of the same boot for one it already has, until the count caught up.
    @Test func aLostOrRolledBackStateNumbersPastEveryEarlierSnapshot() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let clock = ManualClock(100_000)
        let state = AgentState(directory: directory, sequenceFloor: { UInt64(clock.now) * 1_000_000 })
        try state.prepare()
        clock.advance(by: 1_000)
        let first = try state.nextSequence(), second = try state.nextSequence()
        #expect(first == 101_000_000_000 && second == first + 1, "the floor once, then one more each")
        clock.advance(by: 60)
        let third = try state.nextSequence()
        try FileManager.default.removeItem(atPath: directory + "/sequence")  // reinstalled
        clock.advance(by: 60)
        let afterReinstall = try state.nextSequence()
        try "\(first)\n".write(toFile: directory + "/sequence", atomically: true, encoding: .utf8)  // rolled back
        clock.advance(by: 60)
        let afterRollback = try state.nextSequence()
        #expect(third < afterReinstall && afterReinstall < afterRollback, "\([first, second, third, afterReinstall, afterRollback])")
        clock.advance(by: -3_600)  // the clock set back an hour: still one more than the last
        #expect(try state.nextSequence() == afterRollback + 1)
    }
}
