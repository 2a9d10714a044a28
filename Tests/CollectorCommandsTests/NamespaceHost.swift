import Foundation
import Glibc

/// A host of a test's own: a network namespace with loopback up, its own PIDs and /proc
/// (`unshare --net --pid --fork --mount-proc`, as scripts/fleet-test makes its hosts), its
/// processes started with nsenter. They run as root, or confined: as root of a user
/// namespace nested in the host's, whom the kernel does not let read the descriptors or
/// namespaces of any process outside it (ptrace access needs CAP_SYS_PTRACE in the target's
/// user namespace) — permission denied, as an LSM or a hardened runtime answers an agent. A
/// confined process still reads its own network namespace's tables, through /proc/self.
/// Every process in it ends with its init, so nothing outlives `stop()`.
final class NamespaceHost {
    enum Runner { case root, confined }

    private let unshare = Process()
    /// The host's init, as this process numbers it: what nsenter enters.
    private var initPid: Int32 = 0
    /// A process of the nested user namespace: confined processes enter its namespace.
    private var confinement: Int32 = 0
    private var started: [Process] = []

    /// Whether this machine lets the tests make one: root, and namespaces a container may refuse.
    static let available: Bool = getuid() == 0
        && (try? runProcess("/usr/bin/env", ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--",
                                             "unshare", "--user", "--map-root-user", "true"]).status) == 0

    init() throws {
        unshare.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // Ports below 1024 for anyone in this namespace: a confined daemon is root only in its
        // own user namespace, and listens on 557 here. Short-lived even if the test dies
        // before stop(): a test takes seconds.
        unshare.arguments = ["unshare", "--net", "--pid", "--fork", "--mount-proc", "--kill-child", "--",
                             "sh", "-c", "ip link set lo up && echo 0 > /proc/sys/net/ipv4/ip_unprivileged_port_start"
                                 + " && echo up && exec sleep 300"]
        _ = try Self.firstLine(of: unshare)
        initPid = try Self.child(of: unshare.processIdentifier)
        let confined = try start(.root, ["unshare", "--user", "--map-root-user", "--", "sh", "-c", "echo up && exec sleep 300"])
        confinement = try Self.child(of: confined.process.processIdentifier)
    }

    deinit { stop() }

    /// Ends every process of the host.
    func stop() {
        guard unshare.isRunning else { return }
        // --kill-child: the host's init dies with unshare, and every process of the host with it.
        Glibc.kill(unshare.processIdentifier, SIGKILL)
        unshare.waitUntilExit()
        for process in started { process.waitUntilExit() }
    }

    /// Runs `command` in the host to its end: its exit status and everything it printed.
    func run(_ runner: Runner, _ command: [String]) throws -> (status: Int32, output: String) {
        try runProcess("/usr/bin/env", nsenter(runner) + command)
    }

    /// Starts `command` in the host, in the network namespace of `netnsOf` (a process of
    /// the host, as this process numbers it) if given, and waits for its first line.
    @discardableResult
    func start(_ runner: Runner, _ command: [String], netnsOf: Int32? = nil) throws -> (process: Process, line: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = nsenter(runner, netnsOf: netnsOf) + command
        started.append(process)
        return (process, try Self.firstLine(of: process))
    }

    /// Starts `command` in the host as root, its standard error to `log`, and waits until
    /// the log says `ready`.
    func start(_ command: [String], log: String, until ready: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = nsenter(.root) + command
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        started.append(process)
        try process.run()
        for _ in 0..<200 where process.isRunning {
            if (try? String(contentsOfFile: log, encoding: .utf8))?.contains(ready) == true { return }
            usleep(50_000)
        }
        throw HostError.notReady(command.joined(separator: " ") + ": " + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
    }

    /// What a `start`ed process runs (nsenter's child), as this process numbers it.
    func pid(of process: Process) throws -> Int32 { try Self.child(of: process.processIdentifier) }

    /// Kills what a `start`ed process runs, and waits until it is gone.
    func kill(_ process: Process) throws {
        Glibc.kill(try pid(of: process), SIGKILL)
        process.waitUntilExit()
    }

    private func nsenter(_ runner: Runner, netnsOf: Int32? = nil) -> [String] {
        // nsenter enters the user namespace last, while it may still enter the others.
        ["nsenter", "--target", String(initPid), "--mount", "--pid", netnsOf.map { "--net=/proc/\($0)/ns/net" } ?? "--net"]
            + (runner == .confined ? ["--user=/proc/\(confinement)/ns/user"] : []) + ["--"]
    }

    /// The one child of `pid` (unshare's with --fork, nsenter's with --pid).
    private static func child(of pid: Int32) throws -> Int32 {
        let children = try String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)
        guard let child = children.split(separator: " ").first.flatMap({ Int32($0) }) else { throw HostError.noChild(pid) }
        return child
    }

    private static func firstLine(of process: Process) throws -> String {
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { throw HostError.exited(process.arguments?.joined(separator: " ") ?? "") }
            line += more
        }
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    enum HostError: Error {
        case exited(String)
        case noChild(Int32)
        case notReady(String)
    }
}
