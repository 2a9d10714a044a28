import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import PostgresClient
import Testing

/// Reports and exports come out byte for byte the same on SQLite and PostgreSQL: one
/// history stored through the interface into both, then every reader's output written
/// out as text and compared. The PostgreSQL database sorts text by ICU's en-US rules (as a
/// DBA's default may), under which `_`, `a`, `B`, `é` sort otherwise than SQLite's bytes:
/// a reader that forgets `COLLATE "C"` shows here.
struct PostgresReadersGoldenTests {
    static let t0: Int64 = 1_800_000_000
    static let names = ["a", "B", "_", "é", "Z", "a-01", HostileText.hostName]

    /// A new database whose default collation is not byte order.
    static func linguisticDatabase() async throws -> String {
        let name = "pw_icu_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
        let admin = try PGConnection(try await TestPostgres.url("postgres"))
        try admin.execute("""
            CREATE DATABASE \(name) TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'
            """)
        return try await TestPostgres.url(name)
    }

    /// The same history, through the interface: imported hosts with hostile text, two
    /// listeners of one port opened at once, reports with labels, tag edits, policies, a retirement.
    static func store(into db: any HistoryStore) throws {
        let hostile = Listener(transport: .tcp, family: .ipv4, address: "10.0.0.1", port: 557, scope: .specific, netns: 1,
                               hostNetns: true, inode: 1, uid: 0, processes: HostileText.owners)
        func listener(_ transport: Transport, _ port: UInt16) -> Listener {
            Listener(transport: transport, family: .ipv4, address: "0.0.0.0", port: port, scope: .any, netns: 4026531840,
                     hostNetns: true, inode: UInt64(port), uid: 0, processes: [HistoryFixtures.sshd])
        }
        var histories: [HostHistory] = []
        for (i, name) in names.enumerated() {
            let base = t0 + Int64(i) * 10
            let host = HostRecord(name: name, machineID: HostileText.formula, bootID: "b", kernel: HostileText.terminal,
                                  os: HostileText.script, firstSeen: base, lastSeen: base + 500, lastReceived: base + 500,
                                  lastSequence: 3, complete: i % 2 == 0, labels: #"{"note":"\#(HostileText.link)"}"#)
            // 53/udp and 53/tcp opened at one time: only the id tells them apart in order.
            let listeners = [ListenerInterval(listener(.udp, 53), opened: base, closed: nil),
                             ListenerInterval(listener(.tcp, 53), opened: base, closed: nil),
                             ListenerInterval(hostile, opened: base + 5, closed: base + 100),
                             ListenerInterval(listener(.tcp, 22), opened: base - 1_000, closed: base - 10)]
            let runs = [ReceiptRun(bootID: "b", firstSequence: 1, lastSequence: 2, lastBodyDigest: "d1", firstCollected: base,
                                   lastCollected: base + 200, lastReceived: base + 200, reports: 2),
                        ReceiptRun(bootID: nil, firstSequence: nil, lastSequence: nil, lastBodyDigest: HostileText.formula,
                                   firstCollected: base + 300, lastCollected: base + 500, lastReceived: base + 500, reports: 7)]
            let findings = [FindingInterval(ObservedFinding(identity: "openvms \(name)", rule: HostileText.script, severity: "high",
                                                            listener: hostile, waiver: i == 1 ? HostileText.link : nil,
                                                            policyVersion: "p1"), opened: base + 5, closed: nil),
                            FindingInterval(ObservedFinding(identity: "dns", rule: "dns", severity: "low", listener: listener(.udp, 53),
                                                            waiver: nil, policyVersion: "p1"), opened: base, closed: base + 50)]
            histories.append(HostHistory(host: host, listeners: listeners, runs: runs, findings: findings))
        }
        try db.importHistory(histories)
        // Reports (not imported): labels over time, and a host's runs after the import's.
        for (sequence, labels) in [(1, ["role": "db"]), (2, ["role": HostileText.script, "é": "_"])] as [(UInt64, [String: String])] {
            _ = try db.ingest(HistoryFixtures.snapshot(sequence, at: Timestamp.rfc3339(t0 + 1_000 + Int64(sequence)), host: "reporter",
                                                       labels: labels, [HistoryFixtures.listener(22, [HistoryFixtures.sshd])]),
                              host: "reporter", bodyDigest: "r\(sequence)", receivedAt: t0 + 1_000 + Int64(sequence))
        }
        for (name, tag) in [("a", "PCI"), ("B", "é"), ("_", HostileText.terminal), ("a", "_x"), ("a", "Zeta"), ("a", "beta")] {
            try db.tag(host: name, tag, at: t0, by: HostileText.formula)
        }
        try db.untag(host: "a", "pci", at: t0 + 1, by: "alice")  // one tag whatever its case: replaces the tag
        try db.untag(host: "é", "PCI", at: t0 + 1, by: "alice")
        try db.forgetTag(host: "a", "BETA", at: t0 + 2, by: "alice")
        let version = PolicyVersion(digest: "p1", files: [.init(path: "é.yaml", content: [0, 0xff, 0x1b]),
                                                          .init(path: "_.yaml", content: Array(HostileText.script.utf8)),
                                                          .init(path: "B.yaml", content: []), .init(path: "a.yaml", content: [10])])
        try db.recordPolicy(version, at: t0)
        try db.recordPolicy(nil, at: t0 + 100)
        try db.recordPolicy(version, at: t0 + 200)
        _ = try db.retire(host: "Z", at: t0 + 400, by: "alice", reason: HostileText.terminal)
    }

    /// Every reader's output as lines of text, ids left out (each backend numbers its rows).
    static func readings(of db: any HistoryStore) throws -> [String] {
        var lines: [String] = []
        func add(_ label: String, _ value: Any) { lines.append("\(label): \(String(reflecting: value))") }
        func plain(_ host: HostRecord) -> HostRecord { var host = host; host.id = nil; return host }
        func plain(_ interval: ListenerInterval) -> ListenerInterval { var i = interval; i.id = nil; i.hostId = 0; return i }
        func plain(_ finding: FindingInterval) -> FindingInterval { var f = finding; f.id = nil; f.hostId = 0; return f }
        func plain(_ run: ReceiptRun) -> ReceiptRun { var r = run; r.id = nil; r.hostId = 0; return r }
        let now = t0 + 700
        let hosts = try db.hosts(now: now, staleAfter: 300)
        let nameOf = Dictionary(uniqueKeysWithValues: hosts.map { ($0.host.id!, $0.host.name) })
        for (host, stale) in hosts { add("host", (plain(host), stale)) }
        add("counts", try db.hostCounts(now: now, staleAfter: 300))
        for (host, open) in try db.hostsWithOpenListeners() { add("open", (plain(host), open)) }
        for name in names + ["reporter", "nobody"] {
            add("named \(name)", try db.host(named: name).map(plain))
            add("listeners \(name)", try db.openListeners(host: name).map(plain))
            add("runs \(name)", try db.receiptRuns(host: name).map(plain))
            add("knows \(name)", try db.knowsName(name))
            add("tags \(name)", try db.tagEdits(host: name))
        }
        for timeline in try db.listenerTimeline(since: t0 + 50) {
            // Labels as sorted pairs: two equal dictionaries may print in different orders.
            let labels = timeline.labels.map { ($0.since, $0.labels.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { "\($0.key)=\($0.value)" }) }
            add("timeline", (plain(timeline.host), timeline.intervals.map(plain), labels))
        }
        add("timeline of é", try db.listenerTimeline(since: .min, host: "é").map { $0.intervals.map(plain) })
        try db.forEachListenerInterval(since: t0 + 20, until: t0 + 60) { add("listener interval", ($0, plain($1))) }
        try db.forEachFindingInterval(since: .min, until: .max) { add("finding interval", ($0, plain($1))) }
        try db.forEachReceiptRun(since: t0 + 200, until: t0 + 400) { add("receipt run", ($0, plain($1))) }
        var spans: [String] = []
        try db.forEachReportingSpan(since: .min, until: .max) { spans.append("\(nameOf[$0] ?? "?") \($1) \($2)") }
        add("spans", spans.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })  // "in no particular order"
        add("all tags", try db.allTagEdits().sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
        add("assigned", try db.assignedTags().sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        add("policy", try db.policyVersion(digest: "p1") as Any)
        add("periods", try db.policyPeriods(since: t0 + 50, until: t0 + 250))
        return lines
    }

    @Test func everyReaderReadsTheSameOnBothBackends() async throws {
        let sqlite = try HistoryStores.inMemory()
        let postgres = try await HistoryStores.open(try Self.linguisticDatabase())
        try Self.store(into: sqlite)
        try Self.store(into: postgres)
        let expected = try Self.readings(of: sqlite), read = try Self.readings(of: postgres)
        #expect(read.count == expected.count)
        for (index, (line, wanted)) in zip(read, expected).enumerated() where line != wanted {
            Issue.record("line \(index) differs:\nPostgreSQL: \(line)\nSQLite:     \(wanted)")
        }
        // Byte order, which the database's own collation would not give.
        await #expect(try postgres.hosts(now: Self.t0, staleAfter: 300).map(\.host.name)
                == ["B", "Z", "_", "a", "a-01", "reporter", "web-66\n1999-12-31T00:00:00Z level=critical forged", "é"])
        #expect(try postgres.tagEdits(host: "a") == TagEdits(added: ["_x", "Zeta"], removed: ["pci"]))
        #expect(try postgres.policyVersion(digest: "p1")?.files.map(\.path) == ["B.yaml", "_.yaml", "a.yaml", "é.yaml"])
    }
}
