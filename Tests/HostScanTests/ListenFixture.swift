import Foundation

/// A `listen-fixture` process (built with the tests) holding real sockets; killed on stop.
final class ListenFixture {
    struct Socket {
        var kind: String
        var address: String
        var port: UInt16
        var inode: UInt64
    }

    let process = Process()
    private(set) var pid: Int32 = 0
    private(set) var child: Int32 = 0
    private(set) var netns: UInt64 = 0
    private(set) var sockets: [Socket] = []

    /// The directory holding this build's executables (next to the test binary).
    static let products: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()

    /// Starts `listen-fixture ARGS`, optionally under a wrapper such as `unshare --net --`.
    init(_ arguments: [String], under wrapper: [String] = []) throws {
        let binary = Self.products.appendingPathComponent("listen-fixture").path
        let command = wrapper + [binary] + arguments
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { throw FixtureError.exited(command.joined(separator: " ")) }
            line += more
        }
        try parse(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// `pid=P child=C netns=N sockets=tcp4:0.0.0.0:557:INODE,...`
    private func parse(_ line: String) throws {
        for field in line.split(separator: " ") {
            let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
            switch pair[0] {
            case "pid": pid = Int32(pair[1])!
            case "child": child = Int32(pair[1])!
            case "netns": netns = UInt64(pair[1])!
            case "sockets":
                sockets = pair[1].split(separator: ",").map { spec in
                    let parts = spec.split(separator: ":").map(String.init)
                    let kind = parts[0], inode = UInt64(parts.last!)!, port = UInt16(parts[parts.count - 2])!
                    var address = parts[1..<(parts.count - 2)].joined(separator: ":")
                    if address.hasPrefix("[") { address = String(address.dropFirst().dropLast()) }
                    return Socket(kind: kind, address: address, port: port, inode: inode)
                }
            default: throw FixtureError.unreadable(line)
            }
        }
    }

    /// The holders the scan should report: the fixture and its forked child, if any.
    var holders: [Int32] { child > 0 ? [pid, child].sorted() : [pid] }

    /// Kills the fixture and waits until it is gone — not with `waitUntilExit`: among
    /// many processes started at once Foundation can miss one's exit, and that wait then
    /// never ends (a CI run hung here with the fixture a zombie). Reaped here if Foundation
    /// has not, within 10 s.
    func stop() {
        guard process.isRunning else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        for _ in 0..<1_000 {
            if !process.isRunning || waitpid(pid, &status, WNOHANG) == pid { return }
            usleep(10_000)
        }
    }

    deinit { stop() }

    enum FixtureError: Error {
        case exited(String)
        case unreadable(String)
    }
}

/// Runs a command to completion and returns its standard output.
func run(_ command: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = Pipe()
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Whether this kernel lets us make a network namespace (containers often refuse).
let namespacesAvailable: Bool = (try? run(["unshare", "--net", "true"]).status) == 0
let runningAsRoot = getuid() == 0
