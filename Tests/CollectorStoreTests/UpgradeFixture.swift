import CollectorStore
import Findings
import Foundation
import Policy
import PortwardenModel

/// A collector database an earlier release wrote (`Fixtures/upgrade-from-COMMIT`, made by
/// `scripts/make-upgrade-fixture` with that release's binaries), copied to a temporary
/// directory and opened with today's code, as `serve` opens it after an upgrade.
struct UpgradeFixture {
    static let directory = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast()
        .joined(separator: "/") + "/Fixtures"

    /// Every release's fixture: the script tells each the same story, so each is checked alike.
    static var all: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasPrefix("upgrade-from-") }.sorted()
    }

    /// What the script wrote down that the database keeps only hashed or by a value made at the time.
    struct Manifest: Decodable {
        var commit: String
        /// The migrations that release had applied.
        var migrations: [String]
        var credentialDigests: CredentialDigests
        /// Each host's certificate serial, as `openssl x509 -serial` prints it.
        var serials: [String: String]
        var keyFingerprints: KeyFingerprints

        /// SHA-256 of the secret, of the token db-01 used and of the token revoked.
        struct CredentialDigests: Decodable {
            var secret: String
            var token: String
            var revokedToken: String
        }

        /// The keys of vms-01 (approved), of a second key for web-01 (refused), of vms-02 (waiting).
        struct KeyFingerprints: Decodable {
            var approved: String
            var refused: String
            var waiting: String
        }

        func serial(of host: String) throws -> String {
            guard let serial = serials[host] else { throw FixtureError(description: "manifest.json has no serial of \(host)") }
            return serial
        }
    }

    let name: String
    let manifest: Manifest
    let database: CollectorDatabase
    /// The migrations opening it applied.
    let migrated: [String]
    /// The snapshots the release stored, in the order they were sent.
    let reports: [Snapshot]
    /// The policy the release evaluated every report with.
    let policy: PolicySet
    let temporary: String

    init(_ name: String) throws {
        let source = Self.directory + "/" + name
        self.name = name
        temporary = FileManager.default.temporaryDirectory.appendingPathComponent("pw-upgrade-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: source + "/portwarden.sqlite", toPath: temporary + "/portwarden.sqlite")
        manifest = try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: URL(fileURLWithPath: source + "/manifest.json")))
        var applied: [String] = []
        database = try CollectorDatabase.open(path: temporary + "/portwarden.sqlite") { applied = $0 }
        migrated = applied
        reports = try FileManager.default.contentsOfDirectory(atPath: source + "/reports").filter { $0.hasSuffix(".json") }.sorted()
            .map { try Snapshot(wire: Array(Data(contentsOf: URL(fileURLWithPath: source + "/reports/" + $0)))) }
        let load = try PolicySet.load(directory: source + "/policies", today: Day(Date()))
        guard let policy = load.policy else { throw FixtureError(description: "\(name)'s policies: \(load.errors)") }
        self.policy = policy
    }

    func remove() { try? FileManager.default.removeItem(atPath: temporary) }

    /// The findings under the fixture's policy, as the collector evaluates them.
    var evaluator: FindingEvaluator { policy.findingEvaluator }

    /// The last snapshot `host` sent, sent again `later` seconds after it: the next
    /// sequence and time, the same listeners.
    func lastReport(of host: String, later: Int64 = 3_600) throws -> Snapshot {
        guard var snapshot = reports.last(where: { $0.host.hostname == host }) else {
            throw FixtureError(description: "\(name) has no report of \(host)")
        }
        snapshot.sequence = snapshot.sequence.map { $0 + UInt64(later) * 1_000_000 }
        snapshot.collectedAt = Timestamp.rfc3339(Story.seconds(snapshot.collectedAt) + later)
        return snapshot
    }

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
    }
}

/// What `scripts/make-upgrade-fixture` did, in the terms the test checks.
enum Story {
    static let hosts = ["db-01", "old-01", "vms-01", "web-01"]
    static let hostNetns: Int64 = 4_026_531_840
    static let containerNetns: Int64 = 4_026_532_991
    static let labels = ["web-01": ["env": "prod", "role": "web"], "vms-01": ["site": "north"]]
    static let operatorActor = "operator fixture-operator (sudo, uid 0)"

    /// `2026-11-02T` `time` `Z` in seconds.
    static func at(_ time: String) -> Int64 { seconds("2026-11-02T\(time)Z") }

    static func seconds(_ rfc3339: String) -> Int64 { Timestamp.seconds(rfc3339: rfc3339)! }
}
