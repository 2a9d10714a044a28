import CollectorServer
import Foundation
import Logging
import Synchronization
import Testing

/// A policy's load is one event, its refusal is one event with every error in it, and its
/// tests (which change no finding) count against it only under --strict-policy-tests.
@Suite(.serialized)
struct PolicyLoadLogTests {
    /// Each event as its metadata, the message under `msg` and the level under `level`.
    final class Events: Sendable {
        private let events = Mutex<[[String: String]]>([])
        func append(_ event: [String: String]) { events.withLock { $0.append(event) } }
        var all: [[String: String]] { events.withLock { $0 } }
        func named(_ name: String) -> [[String: String]] { all.filter { $0["event"] == name } }
    }

    struct Collecting: LogHandler {
        let events: Events
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            var fields = (event.metadata ?? [:]).mapValues(\.description)
            fields["msg"] = event.message.description
            fields["level"] = event.level.rawValue
            events.append(fields)
        }
    }

    /// The shipped policy with a case that fails and a test file that does not parse.
    static func policyWithBadTests() throws -> String {
        let dir = try PolicyIngestTests.policyCopy()
        try PolicyIngestTests.write("""
            cases:
              - name: expects a finding nothing raises
                host: web-01
                listeners:
                  - {port: 22, protocol: tcp, address: 127.0.0.1}
                expect: [openvms-sysipc-off-openvms]
            """, to: dir + "/tests/wrong.yaml")
        try PolicyIngestTests.write("cases: [unclosed\n", to: dir + "/tests/broken.yaml")
        return dir
    }

    @Test func testsThatFailAreReportedAndThePolicyLoads() throws {
        let dir = try Self.policyWithBadTests()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let events = Events(), metrics = CollectorMetrics()
        let holder = PolicyHolder(directory: dir, metrics: metrics, logger: Logger(label: "t") { _ in Collecting(events: events) })
        #expect(holder.reload())
        #expect(holder.policy != nil)
        let loaded = try #require(events.named("policy_loaded").first, "\(events.all)")
        #expect(loaded["tests_failed"] == "1" && loaded["tests_unreadable"] == "1" && loaded["tests_passed"] != "0", "\(loaded)")
        let failed = try #require(events.named("policy_tests_failed").first, "\(events.all)")
        #expect(failed["failed"]?.contains("expects a finding nothing raises") == true && failed["reason"]?.contains("tests/broken.yaml") == true,
                "\(failed)")
        #expect(events.all.count == 2, "one load, one report of its tests: \(events.all)")
        let text = metrics.render(hosts: 0, staleHosts: 0)
        #expect(text.contains(#"portwarden_policy_tests{result="failed"} 1"#) && text.contains(#"portwarden_policy_tests{result="unreadable"} 1"#),
                "\(text)")
        #expect(text.contains("portwarden_policy_last_load_failed 0"))
    }

    @Test func strictTestsRefuseItInOneEvent() throws {
        let dir = try Self.policyWithBadTests()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let events = Events(), metrics = CollectorMetrics()
        let holder = PolicyHolder(directory: dir, metrics: metrics, logger: Logger(label: "t") { _ in Collecting(events: events) },
                                  strictTests: true)
        #expect(!holder.reload())
        #expect(holder.policy == nil)
        try FileManager.default.removeItem(atPath: dir + "/tests/broken.yaml")
        #expect(!holder.reloadIfChanged(), "the failing case alone refuses it too")
        let refused = events.named("policy_refused")
        #expect(events.all.count == 2 && refused.count == 2, "\(events.all)")
        #expect(refused.first?["reason"] == "errors" && refused.last?["reason"] == "tests_failed", "\(refused)")
        #expect(refused.last?["msg"]?.contains("expects a finding nothing raises") == true, "\(refused)")
        #expect(metrics.render(hosts: 0, staleHosts: 0).contains("portwarden_policy_load_errors_total 2"))
    }

    @Test func aPolicyWithManyErrorsIsRefusedInOneEventNamingWhatStays() throws {
        let dir = try PolicyIngestTests.policyCopy()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let events = Events()
        let holder = PolicyHolder(directory: dir, metrics: CollectorMetrics(), logger: Logger(label: "t") { _ in Collecting(events: events) })
        #expect(holder.reload())
        let good = try #require(holder.policy?.digest)
        try PolicyIngestTests.write("""
            rules:
              - {id: a, why: x, severity: severe, when: port 1}
              - {id: b, why: x, severity: severe, when: port 2}
              - {id: c, why: x, severity: low, when: nonsense ==}
            """, to: dir + "/broken.yaml")
        #expect(!holder.reloadIfChanged())
        let refused = events.named("policy_refused")
        #expect(refused.count == 1 && events.all.count == 2, "one load, one refusal: \(events.all)")
        let event = try #require(refused.first)
        #expect(Int(event["errors"] ?? "") ?? 0 >= 3 && event["kept"] == String(good.prefix(12)), "\(event)")
        #expect(event["msg"]?.contains("broken.yaml:2") == true && event["msg"]?.contains("broken.yaml:4") == true, "\(event)")
    }
}
