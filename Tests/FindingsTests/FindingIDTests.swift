import CollectorStore
import Findings
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing

/// `finding_id`: what the finding is, digested as docs/exports.md says — never where or
/// when it was stored.
struct FindingIDTests {
    static let web = (host: "web-01", rule: "isi-gl", netns: UInt64(4026531840), transport: "udp", family: "ipv4",
                      address: "0.0.0.0", port: 55)

    static func id(_ p: (host: String, rule: String, netns: UInt64, transport: String, family: String, address: String, port: Int))
        -> String {
        FindingID.of(host: p.host, rule: p.rule, netns: p.netns, transport: p.transport, family: p.family, address: p.address,
                     port: p.port)
    }

    /// The recipe docs/exports.md gives (`printf '%s' 'web-01 isi-gl 4026531840 udp ipv4
    /// [0.0.0.0]:55' | sha256sum | cut -c1-16`), so anyone can compute it.
    @Test func isTheDocumentedDigest() {
        #expect(Self.id(Self.web) == "1674551714e054b4")
        #expect(Self.id(Self.web).count == FindingID.length)
    }

    /// Each part on its own makes another finding: none is left out of the digest.
    @Test func everyPartOfTheFindingCounts() {
        var variants = [Self.web]
        var p = Self.web
        p.host = "web-02"; variants.append(p); p = Self.web
        p.rule = "isi-gl2"; variants.append(p); p = Self.web
        p.netns = 4026532500; variants.append(p); p = Self.web
        p.transport = "tcp"; variants.append(p); p = Self.web
        p.family = "ipv6"; variants.append(p); p = Self.web
        p.address = "127.0.0.1"; variants.append(p); p = Self.web
        p.port = 56; variants.append(p)
        #expect(Set(variants.map(Self.id)).count == variants.count)
    }

    /// Waived, then live when the waiver lapsed, resolved, then back with a restarted
    /// owner: three intervals, one finding, one id — and the same id from a second
    /// collector whose rows and times differ.
    @Test func waiverOwnersRowsAndTimeAreNotPartOfIt() throws {
        func history(_ db: any HistoryStore, receivedFrom: UInt64) throws -> [FindingInterval] {
            let evaluator = FindingIntervalTests.evaluator(waivedUntil: Date(timeIntervalSince1970: 1_894_701_900))
            var vmsd = HistoryFixtures.vmsd
            let steps: [(String, [Listener])] = [
                ("2030-01-15T10:00:00Z", [HistoryFixtures.listener(557, [vmsd])]),  // waived
                ("2030-01-15T10:10:00Z", [HistoryFixtures.listener(557, [vmsd])]),  // the waiver lapsed: live
                ("2030-01-15T10:20:00Z", []),  // resolved
                ("2030-01-15T10:30:00Z", { vmsd.pid = 999; vmsd.cmdline = ["vmsd", "-x"]; return [HistoryFixtures.listener(557, [vmsd])] }()),
            ]
            for (n, (time, listeners)) in steps.enumerated() {
                _ = try db.ingest(HistoryFixtures.snapshot(UInt64(n + 1), at: time, listeners), host: "web-01", bodyDigest: "d\(n)",
                                  receivedAt: Int64(receivedFrom) + Int64(n), findings: evaluator)
            }
            return try db.findingHistory(host: "web-01")
        }
        let here = try history(try HistoryStores.inMemory(), receivedFrom: 1)
        // Elsewhere: another host stored first, so every row id differs.
        let elsewhere = try HistoryStores.inMemory()
        for n in 1...3 {
            _ = try elsewhere.ingest(HistoryFixtures.snapshot(UInt64(n), at: "2030-01-15T09:5\(n):00Z", host: "db-02",
                                                               [HistoryFixtures.listener(557, [HistoryFixtures.vmsd])]),
                                     host: "db-02", bodyDigest: "e\(n)", receivedAt: Int64(n), findings: FindingIntervalTests.evaluator())
        }
        let there = try history(elsewhere, receivedFrom: 5_000)
        try #require(here.count == 3 && there.count == 3, "waived, live, reopened: \(here)")
        #expect(Set(here.map(\.waived)) == [true, false])
        #expect(zip(here, there).allSatisfy { $0.id != $1.id }, "each interval another row there")
        let ids = Set((here + there).map { $0.findingID(host: "web-01") })
        #expect(ids == [FindingID.of(host: "web-01", rule: "openvms-sysipc", netns: 4026531840, transport: "tcp", family: "ipv4",
                                     address: "0.0.0.0", port: 557)], "\(ids)")
        #expect(try elsewhere.findingHistory(host: "db-02")[0].findingID(host: "db-02") != ids.first, "another host, another id")
    }
}
