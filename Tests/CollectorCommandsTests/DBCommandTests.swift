import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing

/// `portwarden db migrate` and `db copy` as an operator runs them, and the other commands
/// taking a PostgreSQL connection string for --database.
struct DBCommandTests {
    func portwarden(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runProcess(ServeTests.portwarden, arguments)
    }

    @Test func twoMigrationsAtOnceMigrateOnce() async throws {
        let url = try await TestPostgres.freshDatabase()
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            results.add(Result { try portwarden(["db", "migrate", "--database", url]) })
        }
        let runs = try results.all.map { try $0.get() }
        #expect(runs.map(\.status) == [0, 0], "\(runs)")
        #expect(runs.filter { $0.output.contains("applied pg-1, pg-2") }.count == 1, "\(runs)")
        #expect(runs.filter { $0.output.contains("current (pg-2)") }.count == 1, "\(runs)")
        let again = try portwarden(["db", "migrate", "--database", url])
        #expect(again.status == 0 && again.output.contains("nothing to apply"), "\(again)")
    }

    /// Needs the store's readers on PostgreSQL.
    @Test func theOtherCommandsReadAMigratedDatabase() async throws {
        let url = try await TestPostgres.freshDatabase()
        #expect(try portwarden(["db", "migrate", "--database", url]).status == 0)
        for command in [["hosts", "list"], ["audit"], ["report", "trend"]] {
            let run = try portwarden(command + ["--database", url])
            #expect(run.status == 0, "\(command): \(run)")
        }
    }

    @Test func sqliteMigratesToo() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-db-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        let first = try portwarden(["db", "migrate", "--database", path])
        #expect(first.status == 0 && first.output.contains("applied"), "\(first)")
        let second = try portwarden(["db", "migrate", "--database", "sqlite:" + path])
        #expect(second.status == 0 && second.output.contains("nothing to apply"), "\(second)")
    }

    @Test func aPasswordInTheConnectionStringIsHiddenAndWarnedOf() async throws {
        let url = try await TestPostgres.freshDatabase().replacingOccurrences(of: "postgres@", with: "postgres:hunter2@")
        let unmigrated = try portwarden(["hosts", "list", "--database", url])
        #expect(unmigrated.status == 3 && unmigrated.output.contains("db migrate"), "\(unmigrated)")
        let migrated = try portwarden(["db", "migrate", "--database", url])
        #expect(migrated.status == 0 && migrated.output.contains("warning") && migrated.output.contains("***"), "\(migrated)")
        let unreachable = try portwarden(["report", "trend", "--database", "host=127.0.0.1 port=1 dbname=x password=hunter2"])
        #expect(unreachable.status == 3, "\(unreachable)")
        for run in [unmigrated, migrated, unreachable] { #expect(!run.output.contains("hunter2"), "\(run.output)") }
    }

    @Test func serveWarnsOfAPasswordInTheStringAndNeverShowsIt() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("pw-db-serve-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        #expect(try portwarden(["ca", "init", "--state-dir", state]).status == 0)
        let url = try await TestPostgres.freshDatabase().replacingOccurrences(of: "postgres@", with: "postgres:hunter2@")
        let log = state + "/serve.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServeTests.portwarden)
        process.arguments = ["serve", "--state-dir", state, "--database", url, "--listen", "127.0.0.1:0", "--no-policy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        var text = ""
        for _ in 0..<100 where process.isRunning && !text.contains("listening") {
            usleep(100_000)
            text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("database_password_in_string"), "\(text)")
        #expect(text.contains("database_upgraded") && text.contains("postgres:***@"), "\(text)")
        #expect(!text.contains("hunter2"), "\(text)")
    }

    /// A collector without the CA key needs the shared database a signing collector uses:
    /// on SQLite it is alone, so `--no-signing` is refused; with the key gone and signing
    /// on, the missing file is named.
    @Test func aCollectorWithoutTheKeyNeedsPostgreSQLAndSaysSo() async throws {
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("pw-nosign-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        #expect(try portwarden(["ca", "init", "--state-dir", state]).status == 0)
        #expect(unlink(state + "/ca.key") == 0)
        let sqlite = try portwarden(["serve", "--state-dir", state, "--no-signing", "--listen", "127.0.0.1:0", "--no-policy"])
        #expect(sqlite.status == 2 && sqlite.output.contains("--no-signing (signing: false) needs the PostgreSQL database"),
                "\(sqlite.output)")
        let signing = try portwarden(["serve", "--state-dir", state, "--listen", "127.0.0.1:0", "--no-policy"])
        #expect(signing.status != 0 && signing.output.contains("ca.key"), "\(signing.output)")
    }

    @Test func copyRefusesAFullTargetUnlessForcedAndPrintsTheCounts() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-db-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        let history = try HistoryStores.open(path)
        _ = try await history.ingest(HistoryFixtures.snapshot(1, at: "2027-01-15T08:00:00Z", [HistoryFixtures.listener(22, [])]),
                               host: "web-01", bodyDigest: "b", receivedAt: 1_800_000_000)
        try history.settle()
        let url = try await TestPostgres.freshDatabase()
        let copied = try portwarden(["db", "copy", "--from", "sqlite:" + path, "--to", url])
        #expect(copied.status == 0, "\(copied)")
        #expect(copied.output.contains("host") && copied.output.contains("1 → 1") && copied.output.contains("every table's rows match"),
                "\(copied.output)")
        let again = try portwarden(["db", "copy", "--from", "sqlite:" + path, "--to", url])
        #expect(again.status == 3 && again.output.contains("--force"), "\(again)")
        let forced = try portwarden(["db", "copy", "--from", path, "--to", url, "--force"])
        #expect(forced.status == 0, "\(forced)")
        let backwards = try portwarden(["db", "copy", "--from", url, "--to", path])
        #expect(backwards.status == 2, "\(backwards)")
        let missing = try portwarden(["db", "copy", "--from", path + ".nothing", "--to", url])
        #expect(missing.status == 3, "\(missing)")
    }
}

final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<(status: Int32, output: String), any Error>] = []
    func add(_ result: Result<(status: Int32, output: String), any Error>) { lock.withLock { results.append(result) } }
    var all: [Result<(status: Int32, output: String), any Error>] { lock.withLock { results } }
}
