import Foundation
import Glibc

/// Runs a command under GNU time (`/usr/bin/time -f %M`) for its peak resident set.
///
/// Not this process's own wait4: a child spawned from the test process (vfork or fork)
/// starts on the test process's memory, and Linux counts that memory's high-water mark
/// into the child's ru_maxrss at exec: with the suites running in parallel, the measure
/// was the test process's 85 MB, not the agent's. `time` is small, so what it measures is
/// the command's own peak. (scripts/setup installs `time`.)
enum Measured {
    struct Run {
        var status: Int32
        var output: [UInt8]
        var errors: String
        var peakRSSKiB: Int
    }

    static func run(_ argv: [String]) throws -> Run {
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else { throw POSIXError(.EMFILE) }
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("stderr-\(UUID().uuidString)").path
        let peak = errors + ".rss"
        defer { unlink(errors); unlink(peak) }
        let command = ["/usr/bin/time", "-f", "%M", "-o", peak] + argv
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
        posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let cArguments = command.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, cArguments, environ)
        close(pipeFDs[1])
        defer { close(pipeFDs[0]) }
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .ENOENT) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output += chunk[0..<n]
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        // The last line: `time` writes "Command exited with non-zero status N" before it.
        let measured = (try? String(contentsOfFile: peak, encoding: .utf8))?
            .split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard let measured else { throw POSIXError(.ENOENT) }
        return Run(status: (status >> 8) & 0xFF, output: output, errors: text, peakRSSKiB: measured)
    }
}
