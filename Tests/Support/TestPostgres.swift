import Foundation
import Glibc

/// A throwaway PostgreSQL cluster for the tests: `initdb` in a temporary directory (as the
/// `postgres` user when the tests run as root: initdb refuses root), started on a free
/// loopback port, stopped and removed when the test process exits. No service is left
/// running and nothing is mocked. Each store gets a database of its own.
///
/// Everything that waits on a process (initdb, pg_ctl, psql) is async and runs on a thread
/// of its own: the tests' cooperative pool is as wide as the machine has cores (2 in CI),
/// and two tests blocked there on a starting cluster stall every other test, so timed ones
/// fail.
public enum TestPostgres {
    /// A connection string to a new, empty database in the cluster every test shares.
    /// Never stop or restart the shared cluster: other suites run beside yours.
    public static func freshDatabase() async throws -> String { try await blocking { try shared.get().newDatabase() } }

    /// The shared cluster's connection string to `database` (the superuser, trusted on loopback).
    public static func url(_ database: String) async throws -> String { try await blocking { try shared.get().url(database) } }

    /// A cluster of the caller's own, for a test that stops or restarts the server; removed
    /// at exit like the shared one (call `remove()` when done to free it sooner).
    public static func privateCluster() async throws -> Cluster { try await blocking { try Cluster() } }

    /// Runs `body` while `url`'s database (one of the shared cluster's) refuses connections
    /// and has lost those it had: an outage as a restart is to its clients, but seen by this
    /// test alone (stopping the shared cluster would fail the tests running beside it).
    public static func outage<T>(of url: String, _ body: () async throws -> T) async throws -> T {
        guard let name = url.split(separator: "/").last.map(String.init), name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw Failure("not a database of the shared cluster: \(url)")
        }
        try await blocking {
            try shared.get().psql("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
            try shared.get().psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
        }
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        try await blocking { try shared.get().psql("ALTER DATABASE \(name) ALLOW_CONNECTIONS true") }
        return try result.get()
    }

    nonisolated(unsafe) static let shared: Result<Cluster, any Error> = Result { try Cluster() }

    public final class Cluster: Sendable {
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
            port = try unusedPort()
            if asPostgres {
                guard let user = getpwnam("postgres") else { throw Failure("there is no postgres user (apt-get install postgresql makes it)") }
                chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
            }
            try run([bin + "/initdb", "-D", directory + "/data", "-A", "trust", "-U", "postgres", "-E", "UTF8",
                     "--locale=C", "--no-sync"])
            try startServer()
            let (directory, binaries, asPostgres) = (self.directory, self.bin, self.asPostgres)
            Cluster.lock.lock()
            Cluster.removals[directory] = {
                _ = try? Self.execute((asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : [])
                                      + [binaries + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"])
                try? FileManager.default.removeItem(atPath: directory)
            }
            if !Cluster.registered {
                Cluster.registered = true
                atexit { Cluster.lock.lock(); Cluster.removals.values.forEach { $0() }; Cluster.lock.unlock() }
            }
            Cluster.lock.unlock()
        }

        nonisolated(unsafe) static var removals: [String: () -> Void] = [:]
        nonisolated(unsafe) static var registered = false
        static let lock = NSLock()

        /// Stops the server and removes its files now.
        public func remove() {
            Cluster.lock.lock()
            let removal = Cluster.removals.removeValue(forKey: directory)
            Cluster.lock.unlock()
            removal?()
        }

        /// A connection string to a new, empty database.
        public func freshDatabase() async throws -> String { try await blocking { try self.newDatabase() } }

        /// Stops the server (fast shutdown: connections end); `start()` brings it back on the same port.
        public func stop() async throws { try await blocking { try self.pgctl(["stop", "-m", "fast"]) } }

        public func start() async throws { try await blocking { try self.startServer() } }

        /// Stops the server at once (as a crash would) and starts it again on the same port.
        public func restart() async throws {
            try await blocking {
                try self.pgctl(["-m", "immediate", "-w", "stop"])
                try self.startServer()
            }
        }

        func newDatabase() throws -> String {
            let name = "pw_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased())"
            try psql("CREATE DATABASE \(name)")
            return url(name)
        }

        func startServer() throws {
            // fsync off: a test cluster, thrown away; the fleet test's has it on.
            try pgctl(["-l", directory + "/log", "-o",
                       "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                       + "-c full_page_writes=off -c max_connections=400", "-w", "start"])
        }

        func pgctl(_ arguments: [String]) throws { try run([bin + "/pg_ctl", "-D", directory + "/data"] + arguments) }

        public func url(_ database: String) -> String { "postgresql://postgres@127.0.0.1:\(port)/\(database)" }

        /// Runs `sql` as the superuser in the `postgres` database.
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
            // Nothing else of this process: `pg_ctl start` leaves a server running that would
            // otherwise hold the other tests' sockets open (a stopped collector's port, a
            // connection its server closed), as long as it lives.
            // (glibc 2.34's posix_spawn_file_actions_addclosefrom_np, which Swift's Glibc does not import.)
            typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
                throw Failure("this glibc has no posix_spawn_file_actions_addclosefrom_np (2.34 or later needed)")
            }
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
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
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
