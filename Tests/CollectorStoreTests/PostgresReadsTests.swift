import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import PostgresClient
import Testing

/// What only PostgreSQL has for hosts, tags, policies, retirement and pruning: several
/// collectors (two `PostgresHistory` values on one database) doing them at once from
/// several threads, and a server that goes away and comes back.
struct PostgresReadsTests {
    static let t0: Int64 = 1_800_000_000

    /// Two collectors' stores on one new database.
    static func twoCollectors() async throws -> (any HistoryStore, any HistoryStore) {
        let url = try await TestPostgres.freshDatabase()
        return (try HistoryStores.open(url), try HistoryStores.open(url))
    }

    /// `body(i)` for i in 0..<count, each on a thread of its own, all started at once; the errors thrown.
    static func inParallel(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [String] {
        let errors = Errors(), group = DispatchGroup(), start = DispatchSemaphore(value: 0)
        for i in 0..<count {
            group.enter()
            Thread {
                start.wait()
                do { try body(i) } catch { errors.add("\(i): \(error)") }
                group.leave()
            }.start()
        }
        for _ in 0..<count { start.signal() }
        group.wait()
        return errors.all
    }

    struct Unexpected: Error, CustomStringConvertible { let description: String }

    final class Errors: @unchecked Sendable {
        private let lock = NSLock()
        private var errors: [String] = []
        func add(_ error: String) { lock.withLock { errors.append(error) } }
        var all: [String] { lock.withLock { errors } }
    }

    static func report(_ db: any HistoryStore, _ host: String, _ sequence: UInt64) throws -> IngestOutcome {
        // Every other report opens a second listener and the next closes it: intervals to race on.
        let ports: [UInt16] = sequence % 2 == 0 ? [22, 557] : [22]
        return try db.ingest(HistoryFixtures.snapshot(sequence, at: Timestamp.rfc3339(t0 + Int64(sequence)), host: host,
                                                      ports.map { HistoryFixtures.listener($0, [HistoryFixtures.sshd]) }),
                             host: host, bodyDigest: "\(host)-\(sequence)", receivedAt: t0 + Int64(sequence))
    }

    /// `hosts forget` on one collector while the other stores the host's reports: the
    /// retirement comes wholly before or after each report, so nothing stays open on the
    /// retired host, no interval overlaps another, and it is retired (and audited) once.
    @Test func retireRacingIngestOnAnotherCollector() async throws {
        for round in 0..<6 {
            let (a, b) = try await Self.twoCollectors()
            let host = "race-\(round)"
            _ = try Self.report(b, host, 1)
            let errors = Self.inParallel(4) { i in
                if i == 0 {
                    Thread.sleep(forTimeInterval: 0.005 * Double(round))
                    let retired = try a.retire(host: host, at: Self.t0 + 1_000, by: "alice", reason: nil)
                    if retired?.hadReported != true { throw Unexpected(description: "nothing retired: \(String(describing: retired))") }
                } else {
                    for sequence in stride(from: UInt64(1 + i), through: 60, by: 3) { _ = try Self.report(b, host, sequence) }
                }
            }
            #expect(errors.isEmpty, "\(errors)")
            let stored = try #require(try a.host(named: host))
            #expect(stored.retiredAt == Self.t0 + 1_000)
            #expect(try a.openListeners(host: host).isEmpty, "round \(round): a report committed after the retirement")
            #expect(try b.integrityProblems() == [])
            let intervals = try b.listenerTimeline(since: .min, host: host).flatMap(\.intervals)
            #expect(!intervals.isEmpty && intervals.allSatisfy { $0.closed != nil })
            #expect(try a.auditEntries(since: 0).filter { $0.action == .hostRetired }.count == 1)
            // Later reports write nothing: the host stays retired, its last sequence as it was.
            let last = stored.lastSequence
            #expect(try Self.report(b, host, 61) == .duplicate)
            #expect(try a.host(named: host)?.lastSequence == last)
        }
    }

    /// A retirement's revocation on one collector is refused by the other's handshakes
    /// within a second, as `enroll revoke`'s is.
    @Test func aRetirementsRevocationReachesTheOtherCollectorWithinASecond() async throws {
        let (a, b) = try await Self.twoCollectors()
        for (serial, host) in [("0A", "web-01"), ("0B", "web-02")] {
            try a.recordSigned(by: "test", at: Self.t0) {
                IssuedCertificate(serial: serial, hostName: host, fingerprint: serial, notAfter: Self.t0 + 86_400, issuedAt: Self.t0)
            }
        }
        // B's view is loaded and hears A: a plain revocation reaches it first.
        #expect(!b.isRevoked(serial: "0A") && !b.isRevoked(serial: "0B"))
        #expect(try a.revoke(host: "web-02", at: Self.t0 + 5) == 1)
        #expect(Self.eventually { b.isRevoked(serial: "0B") })
        #expect(try a.retire(host: "web-01", at: Self.t0 + 10, by: "alice", reason: nil)?.revokedSerials == ["0A"])
        #expect(a.isRevoked(serial: "0A"), "at once on the collector that retired it")
        #expect(Self.eventually { b.isRevoked(serial: "0A") })
    }

    /// Whether `condition` holds within a second.
    static func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(1)
        while !condition() {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return true
    }

    /// Tag edits from two collectors on many threads at once: each kept once, one row per
    /// tag whatever its case, every edit audited.
    @Test func tagEditsFromTwoCollectorsAtOnce() async throws {
        let (a, b) = try await Self.twoCollectors()
        let errors = Self.inParallel(8) { i in
            let db = i % 2 == 0 ? a : b
            for j in 0..<10 {
                try db.tag(host: "web-\(j % 3)", "own-\(i)-\(j)", at: Self.t0 + Int64(j), by: "thread \(i)")
                try db.tag(host: "web-0", j % 2 == 0 ? "SHARED" : "shared", at: Self.t0, by: "thread \(i)")
            }
            try db.untag(host: "web-1", i % 2 == 0 ? "gone" : "GONE", at: Self.t0, by: "thread \(i)")
        }
        #expect(errors.isEmpty, "\(errors)")
        #expect(try b.tagEdits(host: "web-1").removed.map { $0.lowercased() } == ["gone"])
        #expect(try a.forgetTag(host: "web-1", "Gone", at: Self.t0 + 1, by: "alice"))
        #expect(try !b.forgetTag(host: "web-1", "gone", at: Self.t0 + 2, by: "alice"), "forgotten already")
        let edits = try b.allTagEdits()
        let added = edits.values.map { $0.added.count }.reduce(0, +)
        #expect(added == 80 + 1)
        #expect(edits["web-0"]?.added.filter { $0.lowercased() == "shared" }.count == 1)
        #expect(edits["web-1"]?.removed == [])
        let audit = try a.auditEntries(since: 0)
        #expect(audit.filter { $0.action == .tagAssigned }.count == 160)
        #expect(audit.filter { $0.action == .tagRemoved }.count == 8)
        #expect(audit.filter { $0.action == .tagForgotten }.count == 1)
        #expect(try a.assignedTags().count == 81)
    }

    /// Collectors starting together under one policy record one period, not one each:
    /// with no policy (nothing inserted to wait on), and with a version recorded before.
    @Test func policyRecordedByCollectorsStartingTogether() async throws {
        let (a, b) = try await Self.twoCollectors()
        let version = PolicyVersion(digest: "p1", files: [.init(path: "ports.yaml", content: [0, 1, 0xff])])
        try a.recordPolicy(version, at: Self.t0)
        for (offset, recorded) in [(1, nil), (2, version)] as [(Int64, PolicyVersion?)] {
            let errors = Self.inParallel(16) { i in try (i % 2 == 0 ? a : b).recordPolicy(recorded, at: Self.t0 + offset) }
            #expect(errors.isEmpty, "\(errors)")
        }
        #expect(try a.policyPeriods(since: .min, until: .max) == [
            PolicyPeriod(since: Self.t0, until: Self.t0 + 1, version: "p1"), PolicyPeriod(since: Self.t0 + 1, until: Self.t0 + 2, version: nil),
            PolicyPeriod(since: Self.t0 + 2, until: nil, version: "p1"),
        ])
        #expect(try b.policyVersion(digest: "p1") == version)
    }

    /// Pruning on both collectors while one stores reports: every host keeps its newest
    /// run, so a redelivery is still recognised.
    @Test func pruningOnTwoCollectorsWhileReportsArrive() async throws {
        let (a, b) = try await Self.twoCollectors()
        let errors = Self.inParallel(4) { i in
            if i < 2 {
                for sequence in UInt64(1)...30 { _ = try Self.report(a, "web-\(i)", sequence) }
            } else {
                for _ in 0..<30 { try (i == 2 ? a : b).pruneReceipts(receivedBefore: .max) }
            }
        }
        #expect(errors.isEmpty, "\(errors)")
        for i in 0..<2 {
            #expect(try b.receiptRuns(host: "web-\(i)").last?.lastSequence == 30)
            #expect(try Self.report(b, "web-\(i)", 30) == .duplicate)
        }
    }

    /// The consistency check finds what two collectors not serialising on a host would
    /// leave (one listener's intervals overlapping) and an index a failed build left
    /// invalid — written here behind the store's back, as only a bug or a DBA could — and
    /// names rows by id, never by a host's own text.
    @Test func theIntegrityCheckFindsOverlapsAndInvalidIndexes() async throws {
        let url = try await TestPostgres.freshDatabase()
        let db = try HistoryStores.open(url)
        #expect(try db.integrityProblems() == [])
        let raw = try PGConnection(url)
        let hostId: Int64 = try raw.query("""
            INSERT INTO host (name, firstSeen, lastSeen, lastReceived, complete) VALUES ($1, 0, 0, 0, true) RETURNING id
            """, [HostileText.hostName])[0].value("id")
        for (opened, closed) in [(10, 100), (100, 150), (140, 200)] as [(Int64, Int64)] {  // the third opens before the second closed
            try raw.execute("""
                INSERT INTO listenerInterval (hostId, identity, netns, hostNetns, protocol, family, address, port, scope, owners, opened, closed)
                VALUES ($1, $2, 1, true, 'tcp', 'ipv4', '0.0.0.0', 22, 'any', '[]', $3, $4)
                """, [hostId, HostileText.terminal, opened, closed])
        }
        let overlap = try db.integrityProblems()
        #expect(overlap.count == 1 && overlap[0].contains("listenerInterval rows 2 and 3 (host id \(hostId))"), "\(overlap)")
        #expect(HostileText.rawControls(in: overlap.joined(separator: "\n")).isEmpty)
        try raw.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'findinginterval_open'::regclass")
        #expect(try db.integrityProblems().contains { $0.hasPrefix("index findinginterval_open is invalid") })
    }

    /// The database going away (its connections ended, as a restart ends them, and new ones
    /// refused) fails the calls meanwhile as "the storage" (503 for the collector), not as
    /// a wrong answer, and the calls after it is back work again. Only this test's database
    /// goes: stopping the shared cluster would fail the tests running beside it.
    @Test func anOutageIsStorageUnavailableAndTheStoreComesBack() async throws {
        let url = try await TestPostgres.freshDatabase()
        let db = try HistoryStores.open(url)
        try db.tag(host: "web-01", "pci", at: Self.t0, by: "alice")
        #expect(try db.knowsName("web-01"))
        try await TestPostgres.outage(of: url) {
            #expect(throws: StorageUnavailable.self) { try db.tagEdits(host: "web-01") }
            #expect(throws: StorageUnavailable.self) { try db.hosts(now: Self.t0, staleAfter: 60) }
            #expect(throws: StorageUnavailable.self) { try db.tag(host: "web-01", "sox", at: Self.t0, by: "alice") }
        }
        #expect(try db.tagEdits(host: "web-01") == TagEdits(added: ["pci"]))
        try db.tag(host: "web-01", "sox", at: Self.t0 + 1, by: "alice")
        #expect(try db.assignedTags() == ["pci", "sox"])
    }
}
