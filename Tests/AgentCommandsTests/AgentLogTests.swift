import Foundation
import Testing

/// The agent's log takes the same flags as the collector's: every command that logs has
/// --log-format and --log-level, and a json line is one object naming its event.
struct AgentLogTests {
    let scan = ScanCommandTests()

    @Test func scanWarningsAreJSONEventsAndTheLevelFiltersThem() throws {
        let json = try scan.agent(["scan", "--format", "json", "--proc-root", ScanCommandTests.fixture, "--log-format", "json"])
        #expect(json.status == 0)
        let lines = json.err.split(separator: "\n")
        #expect(!lines.isEmpty, "the fixture has warnings")
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String], "\(line)")
            #expect(object["event"] == "scan_warning" && object["level"] == "warning" && object["time"] != nil, "\(line)")
        }
        #expect(json.err.contains("socket 9999"))
        let quiet = try scan.agent(["scan", "--format", "json", "--proc-root", ScanCommandTests.fixture, "--log-level", "error"])
        #expect(quiet.status == 0 && quiet.err.isEmpty, "warnings are below error: \(quiet.err)")
        let bad = try scan.agent(["scan", "--proc-root", ScanCommandTests.fixture, "--log-format", "yaml"])
        #expect(bad.status != 0 && bad.err.contains("--log-format") && bad.err.contains("json"), "\(bad.err)")
    }

    @Test func everyCommandThatLogsTakesTheFlags() throws {
        for command in ["scan", "run", "renew", "enroll"] {
            let help = try scan.agent([command, "--help"])
            #expect(help.out.contains("--log-format") && help.out.contains("--log-level"), "\(command): \(help.out)")
        }
    }
}
