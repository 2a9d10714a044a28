import Foundation
import Testing
@testable import AgentCommands
import ConfigFile
import PortwardenModel

/// agent.yaml's `redact:` patterns and `labels:` bounds.
struct AgentConfigTests {
    func config(_ text: String) throws -> AgentConfig {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        return try AgentConfig(path: path)
    }

    @Test func redactPatternsAreRead() throws {
        #expect(try config("redact:\n  - --db-pass\n  - \"*_LICENSE\"\n").redact == ["--db-pass", "*_LICENSE"])
        #expect(try config("redact: vault-seed\n").redact == ["vault-seed"])
        #expect(try config("interval: 60\n").redact == [])
    }

    @Test func aPatternThatIsNotANameIsRefusedWhereItIsWritten() throws {
        do {
            _ = try config("interval: 60\nredact:\n  - --db-pass\n  - \"(?i)token.*\"\n")
            Issue.record("a regular expression was accepted as a pattern")
        } catch let error as ConfigError {
            #expect(error.line == 4)
            #expect(error.message.contains("(?i)token.*") && error.message.contains("with * for any run"))
        }
    }

    @Test func labelsAreCutToTheStringBoundAndCountedAgainstTheirs() throws {
        let long = String(repeating: "v", count: WireLimits.stringBytes + 10)
        let labels = try config("labels:\n  role: \(long)\n").labels
        #expect(labels["role"]?.utf8.count == WireLimits.stringBytes)
        #expect(labels["role"]?.hasSuffix(WireLimits.truncationMarker) == true)
        let many = (0...WireLimits.labelsPerHost).map { "  l\($0): x\n" }.joined()
        #expect(throws: ConfigError.self) { try config("labels:\n" + many) }
    }
}
