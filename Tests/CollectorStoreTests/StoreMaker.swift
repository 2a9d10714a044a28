import CollectorStore
import Foundation
import PortwardenTestSupport
import Testing

/// One implementation of `HistoryStore` as the suite makes it: every behavioural test
/// runs once per maker in `all`, through the interface only. A second implementation
/// joins the suite with one line in each list.
struct StoreMaker: Sendable, CustomTestStringConvertible {
    let testDescription: String
    /// A fresh, empty store.
    let make: @Sendable () async throws -> any HistoryStore

    /// The stores every behavioural test runs against.
    static let all: [StoreMaker] = [sqliteInMemory, postgres]
    /// Stores where readers and a writer work at once, for what the interface promises
    /// about them (SQLite: a file in WAL mode; in memory, one connection does everything).
    static let concurrent: [StoreMaker] = [sqliteFile, postgres]

    static let sqliteInMemory = StoreMaker(testDescription: "SQLite in memory") { try HistoryStores.inMemory() }
    /// A new database in the throwaway cluster the tests start (`TestPostgres`).
    static let postgres = StoreMaker(testDescription: "PostgreSQL") { try HistoryStores.open(await TestPostgres.freshDatabase()) }
    static let sqliteFile = StoreMaker(testDescription: "SQLite file") {
        try HistoryStores.open(Scratch.path("history-\(UUID().uuidString).sqlite"))
    }
}

/// A directory for the files tests make, removed when the test process exits (a file
/// cannot go while its store is open: SQLite opens readers on demand, by path).
enum Scratch {
    static let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-store-tests-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.directory) }
        return path
    }()

    static func path(_ name: String) -> String { directory + "/" + name }
}
