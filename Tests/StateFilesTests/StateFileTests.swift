import Foundation
import PortwardenTestSupport
import StateFiles
import Testing

/// A key, a certificate or a spooled snapshot is replaced whole or not at all, with the
/// mode asked for, and a link planted where one belongs is never followed.
struct StateFileTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-files-\(UUID().uuidString)").path
    var path: String { directory + "/key.pem" }
    /// Where a test's write goes first, as `StateFile.write` names it.
    var temporary: String { path + ".tmp-\(getpid())" }

    init() throws { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false) }

    func contents(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    /// The permission bits, and whether it is a plain file (not a link) — as lstat sees it.
    func mode(_ path: String) -> (permissions: mode_t, isPlain: Bool) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return (0, false) }
        return (st.st_mode & 0o7777, st.st_mode & S_IFMT == S_IFREG)
    }

    /// A file elsewhere holding `text`, and a link to it planted at `link`: the file's path.
    func plantLink(at link: String, to text: String) throws -> String {
        let target = directory + "/elsewhere"
        try text.write(toFile: target, atomically: false, encoding: .utf8)
        symlink(target, link)
        return target
    }

    /// This process's umask, read without changing it (tests run in parallel).
    static let umask: mode_t = {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Umask:") }
        return line.flatMap { mode_t($0.dropFirst(6).trimmingCharacters(in: .whitespaces), radix: 8) } ?? 0o022
    }()

    @Test func aWriteReplacesTheFileWithTheModeAskedForAndLeavesNoTemporary() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try StateFile.write("old\n", to: path, mode: 0o644)
        #expect(mode(path).permissions == 0o644 & ~Self.umask)
        try StateFile.write("new\n", to: path, mode: 0o600)
        #expect(try contents(path) == "new\n")
        #expect(mode(path).permissions == 0o600, "a new file, not the old one's mode: a key written over a readable file is not readable")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["key.pem"])
        #expect(try StateFile.read(path) == "new\n")
        #expect(try StateFile.readBytes(path) == Array("new\n".utf8))
    }

    @Test(.enabled(if: SmallDisk.available, "mount -t tmpfs is refused here (not root, or a sandbox): the full-disk write cannot be tried"))
    func aWriteTheDiskCannotHoldKeepsTheOldFileWholeAndLeavesNoTemporary() throws {
        try FileManager.default.removeItem(atPath: directory)
        let disk = try SmallDisk(megabytes: 1)
        let path = disk.path + "/spooled.json"
        try StateFile.write("the old snapshot\n", to: path, mode: 0o600)
        let failure = try #require(throws: StateFile.Failed.self) {
            try StateFile.write(bytes: [UInt8](repeating: 0x7B, count: 2 << 20), to: path, mode: 0o600)
        }
        #expect(failure.description == "\(path): No space left on device")
        #expect(try contents(path) == "the old snapshot\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path) == ["spooled.json"], "the half-written temporary is removed")
    }

    @Test func aWriteThatCannotMakeItsTemporaryKeepsTheOldFile() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try StateFile.write("old\n", to: path, mode: 0o600)
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        let failure = try #require(throws: StateFile.Failed.self) { try StateFile.write("new\n", to: path, mode: 0o600) }
        #expect(failure.description == "\(temporary): File exists")
        #expect(try contents(path) == "old\n")
    }

    @Test func aLinkIsReplacedNotWrittenThroughAtTheFileOrAtItsTemporary() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let target = try plantLink(at: path, to: "precious\n")
        try StateFile.write("new\n", to: path, mode: 0o600)
        #expect(try contents(target) == "precious\n")
        #expect(try mode(path).isPlain && contents(path) == "new\n")
        unlink(path)
        symlink(target, temporary)  // as if planted, or left by a crash of a process with our pid
        try StateFile.write("newer\n", to: path, mode: 0o600)
        #expect(try contents(target) == "precious\n")
        #expect(try contents(path) == "newer\n")
    }

    @Test func aReadOfAFileTheProgramKeepsRefusesALinkAndAFIFO() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try plantLink(at: path, to: "planted\n")
        let refused = try #require(throws: StateFile.Failed.self) { try StateFile.read(path, followingLinks: false) }
        #expect(refused.description == "\(path): a symbolic link or special file where a plain file belongs; "
                + "remove it, and check who can write to its directory")
        #expect(try StateFile.read(path) == "planted\n", "a file an operator names (--ca-file) may be a link")
        let fifo = directory + "/fifo"
        mkfifo(fifo, 0o600)
        #expect(throws: StateFile.Failed.self) { try StateFile.readBytes(fifo, followingLinks: false) }  // and does not hang
    }

    @Test func aMissingFileSaysSo() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let failure = try #require(throws: StateFile.Failed.self) { try StateFile.read(directory + "/absent") }
        #expect(failure.description == "\(directory)/absent: No such file or directory")
    }
}
