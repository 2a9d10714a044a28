import Foundation
import Glibc

/// A throwaway PostgreSQL cluster for the tests: `initdb` in a temporary directory (as the
/// `postgres` user when the tests run as root: initdb refuses root), started on a free
/// loopback port, stopped and removed when the test process exits. No service is left
/// running and nothing is mocked. Each store gets a database of its own.
public enum TestPostgres {
    /// A connection string to a new, empty database.
    public static func freshDatabase() throws -> String {
        let cluster = try started.get()
        let name = "pw_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
        try cluster.psql("CREATE DATABASE \(name)")
        return cluster.url(name)
    }

    /// The cluster's connection string to `database` (the superuser, trusted on loopback).
    public static func url(_ database: String) throws -> String { try started.get().url(database) }

    /// Stops the server at once (as a crash would) and starts it again on the same port:
    /// what a database restart does to connected collectors.
    public static func restart() throws { try started.get().restart() }

    /// Stops the server (fast shutdown); `start()` brings it back.
    public static func stop() throws { try started.get().pgctl(["stop", "-m", "fast"]) }
    public static func start() throws { try started.get().start() }

    nonisolated(unsafe) static let started: Result<Cluster, any Error> = Result { try Cluster() }

    /// A cluster of its own, for a test that stops and starts its server (an outage): the
    /// shared one serves the other tests running meanwhile. Removed at exit too.
    public struct OwnCluster: Sendable {
        let cluster: Cluster
        public init() throws { cluster = try Cluster() }
        public func freshDatabase() throws -> String {
            let name = "pw_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
            try cluster.psql("CREATE DATABASE \(name)")
            return cluster.url(name)
        }
        public func stop() throws { try cluster.pgctl(["stop", "-m", "fast"]) }
        public func start() throws { try cluster.start() }
        public func restart() throws { try cluster.restart() }
    }

    final class Cluster: Sendable {
        let directory: String
        let port: Int
        let bin: String
        let asPostgres: Bool

        init() throws {
            guard let bin = Self.binaries() else {
                throw Failure("PostgreSQL's server binaries (initdb, pg_ctl) are not installed: run scripts/setup (apt-get install postgresql)")
            }
            self.bin = bin
            asPostgres = getuid() == 0
            var template = Array("/tmp/pw-pg-XXXXXX".utf8CString)
            guard mkdtemp(&template) != nil else { throw Failure("cannot make a directory in /tmp") }
            directory = String(cString: template)
            port = Self.freePort()
            if asPostgres {
                guard let user = getpwnam("postgres") else { throw Failure("there is no postgres user (apt-get install postgresql makes it)") }
                chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
            }
            try run([bin + "/initdb", "-D", directory + "/data", "-A", "trust", "-U", "postgres", "-E", "UTF8",
                     "--locale=C", "--no-sync"])
            try start()
            let (directory, binaries, asPostgres) = (self.directory, self.bin, self.asPostgres)
            Cluster.lock.withLock {
                if Cluster.atExit.isEmpty { atexit { Cluster.lock.withLock { Cluster.atExit }.forEach { $0() } } }
                Cluster.atExit.append {
                    _ = try? Self.execute((asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : [])
                                          + [binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"])
                    try? FileManager.default.removeItem(atPath: directory)
                }
            }
        }

        /// What removes each cluster at exit (the shared one, and any `OwnCluster`).
        nonisolated(unsafe) static var atExit: [() -> Void] = []
        static let lock = NSLock()

        func start() throws {
            // fsync off: a test cluster, thrown away; the fleet test's has it on.
            try pgctl(["-l", directory + "/log", "-o",
                       "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                       + "-c full_page_writes=off -c max_connections=400", "-w", "start"])
        }

        func restart() throws {
            try pgctl(["-m", "immediate", "-w", "stop"])
            try start()
        }

        func pgctl(_ arguments: [String]) throws { try run([bin + "/pg_ctl", "-D", directory + "/data"] + arguments) }

        func url(_ database: String) -> String { "postgresql://postgres@127.0.0.1:\(port)/\(database)" }

        func psql(_ sql: String) throws {
            try run([bin + "/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres",
                     "-d", "postgres", "-c", sql])
        }

        private func run(_ command: [String]) throws {
            try Self.execute((asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : []) + command)
        }

        /// Runs `command` to its end, its output into a file read on failure. posix_spawn and
        /// waitpid, not Foundation's Process: its waitUntilExit can hang when called from
        /// the test's cooperative threads, and `pg_ctl start` leaves a server behind.
        static func execute(_ command: [String]) throws {
            let output = "/tmp/pw-pg-command-\(getpid())-\(UUID().uuidString)"
            defer { unlink(output) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            var pid: pid_t = 0
            let arguments = command.map { strdup($0) } + [nil]
            defer { arguments.forEach { free($0) } }
            let spawned = posix_spawn(&pid, command[0], &actions, nil, arguments, environ)
            guard spawned == 0 else { throw Failure("cannot run \(command[0]): \(String(cString: strerror(spawned)))") }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            guard status == 0 else {
                let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
                throw Failure("\(command.joined(separator: " ")) failed (status \(status)): \(text)")
            }
        }

        static func binaries() -> String? {
            let candidates = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? [])
                .sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
            return candidates.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
        }

        /// A loopback port nothing listens on now.
        static func freePort() -> Int {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            return Int(UInt16(bigEndian: address.sin_port))
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
