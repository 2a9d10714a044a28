@_spi(Testing) import CollectorStore
import Foundation
import Testing

/// Only `serve` and `ca init` create or migrate the history: every other command refuses a
/// database that is not there, or that an older release wrote, and changes nothing.
@Suite(.serialized)
struct DatabaseOpeningTests {
    let state = FileManager.default.temporaryDirectory.appendingPathComponent("pw-opening-\(UUID().uuidString)").path

    @Test func commandsRefuseAMissingOrOlderDatabaseAndMigrateNothing() async throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let missing = try runProcess(ServeTests.portwarden, ["hosts", "list", "--state-dir", state])
        #expect(missing.status == 3 && missing.output.contains("there is no database at \(state)/portwarden.sqlite"), "\(missing.output)")
        #expect(!FileManager.default.fileExists(atPath: state + "/portwarden.sqlite"), "nothing made")

        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let path = state + "/portwarden.sqlite"
        let newest = try #require(CollectorDatabase.migrations.last)
        // As an older release left it: the newest migration not applied.
        let made = try CollectorDatabase.create(path: path, migratedUpTo: try #require(CollectorDatabase.migrations.dropLast().last))
        for command in [["hosts", "list"], ["enroll", "secret"], ["report", "trend"], ["audit"]] {
            let older = try runProcess(ServeTests.portwarden, command + ["--state-dir", state])
            #expect(older.status == 3 && older.output.contains("written by an older release (\(newest) not applied)")
                    && older.output.contains("portwarden serve"), "\(command): \(older.output)")
        }
        #expect(try made.appliedMigrations() == Array(CollectorDatabase.migrations.dropLast()), "no command but serve migrated it")
    }
}
