import ArgumentParser
import Foundation
import Testing
@testable import AgentCommands
import ConfigFile

/// `collector:` as one host:port or a list, and `--collector` repeated: every way an
/// operator or a tool writes them, and every entry that must be refused before anything
/// is dialled, naming the entry and what to write instead.
extension AgentConfigTests {
    @Test func oneCollectorOrAListIsRead() throws {
        #expect(try config("collector: a.example:8443\n").collector == ["a.example:8443"])
        #expect(try config("collector: [a.example:8443, b.example:8443]\n").collector == ["a.example:8443", "b.example:8443"])
        #expect(try config("collector:\n  - a.example:8443\n  - '[2001:db8::1]:8443'\n").collector
                == ["a.example:8443", "[2001:db8::1]:8443"])
        // PyYAML's to_nice_yaml: the list level with its key.
        #expect(try config("collector:\n-   a.example:8443\n-   10.0.0.2:8443\ninterval: 60\n").collector
                == ["a.example:8443", "10.0.0.2:8443"])
        #expect(try config("collector: ['[::1]:8443', \"b.example.:8443\", c_internal.corp:1]\n").collector.count == 3)
        #expect(try config("collector: []\n").collector.isEmpty, "an empty list is no collector: run says to give one")
        #expect(try config("collector:\ninterval: 60\n").collector.isEmpty)
        let sixteen = (1...16).map { "c\($0).example:8443" }.joined(separator: ", ")
        #expect(try config("collector: [\(sixteen)]\n").collector.count == 16)
    }

    /// Each refused on its own line and column, with what to write instead.
    @Test(arguments: [
        ("collector: [a.example:8443, b.example:8443, a.example:8443]\n", 1, 45, "listed twice (also as entry 1"),
        ("collector:\n  - A.Example:8443\n  - a.example.:8443\n", 3, 5, "listed twice"),
        ("collector:\n  - '[::1]:8443'\n  - '[0:0::1]:8443'\n", 3, 5, "listed twice"),
        ("collector:\n  - 127.0.0.1:8443\n  - 127.000.0.1:8443\n", 3, 5, "not a host name or an address"),
        ("collector: a.example:8443, b.example:8443\n", 1, 12, "write a list, [a.example:8443, b.example:8443]"),
        ("collector: https://a.example:8443/v1\n", 1, 12, "without a scheme or path, e.g. \"a.example:8443\""),
        ("collector: a.example\n", 1, 12, "expected host:port"),
        ("collector: a.example:0\n", 1, 12, "expected host:port"),
        ("collector: a.example:65536\n", 1, 12, "expected host:port"),
        ("collector: a.example:-1\n", 1, 12, "expected host:port"),
        ("collector: ::1:8443\n", 1, 12, "an IPv6 address goes in brackets, [::1]:8443 (quoted in YAML"),
        ("collector: '[not-v6]:8443'\n", 1, 12, "is not an IPv6 address"),
        ("collector: [::1]:8443\n", 1, 17, "an IPv6 address with a port is quoted: \"[::1]:8443\""),
        ("collector:\n  - [2001:db8::1]:8443\n", 2, 5, "an IPv6 address with a port is quoted: \"[2001:db8::1]:8443\""),
        ("collector: [a.example:8443, , b.example:8443]\n", 1, 29, "an empty entry"),
        ("collector:\n  -\n  - b.example:8443\n", 2, 4, "an empty entry"),
        ("collector: \"a\\u001B[31m.example:8443\"\n", 1, 12, "\\u{1B}[31m.example"),
        ("collector: 'a;rm -rf:8443'\n", 1, 12, "one collector per entry"),
        ("collector: -bad.example:8443\n", 1, 12, "not a host name"),
        ("collector: a..example:8443\n", 1, 12, "not a host name"),
        ("collector: {a: b}\n", 1, 13, "unknown key \"collector.a\""),
    ])
    func aBadCollectorEntryIsRefusedWhereItIsWritten(text: String, line: Int, column: Int, message: String) {
        do {
            let file = try config(text)
            Issue.record("accepted \(text.debugDescription) as \(file.collector)")
        } catch let error as ConfigError {
            #expect(error.line == line && error.column == column && error.message.contains(message), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }

    /// Seventeen collectors, a host name of 300 bytes, a 64-byte label: bounded, and the
    /// error quotes at most 80 characters of what it refuses.
    @Test func theListAndEachEntryAreBounded() throws {
        let seventeen = (1...17).map { "c\($0).example:8443" }
        #expect(throws: ConfigError.self) { try config("collector: [\(seventeen.joined(separator: ", "))]\n") }
        do {
            _ = try config("collector:\n" + seventeen.map { "  - \($0)\n" }.joined())
            Issue.record("seventeen collectors accepted")
        } catch let error as ConfigError {
            #expect(error.line == 18 && error.message.contains("at most 16 collectors; 17 are listed"), "\(error)")
        }
        let long = String(repeating: "a", count: 300) + ".example:8443"
        do {
            _ = try config("collector: \(long)\n")
            Issue.record("a 300-byte host accepted")
        } catch let error as ConfigError {
            #expect(error.message.contains("longer than any host:port") && error.message.count < 400, "\(error)")
        }
        #expect(throws: ConfigError.self) { try config("collector: \(String(repeating: "a", count: 64)).example:8443\n") }
        #expect(try config("collector: \(String(repeating: "a", count: 63)).example:8443\n").collector.count == 1)
    }

    /// `--collector` repeated is the list; a comma-separated one is refused with how to
    /// repeat it, as is every entry the file refuses.
    @Test func theFlagIsRepeatedNotCommaSeparated() throws {
        let options = try CollectorOptions.parse(["--collector", "a.example:8443", "--collector", "[2001:db8::1]:8443"])
        #expect(options.collector == ["a.example:8443", "[2001:db8::1]:8443"])
        for (arguments, message) in [
            (["--collector", "a.example:8443,b.example:8443"], "repeat the flag (--collector a.example:8443 --collector b.example:8443)"),
            (["--collector", "a.example:8443", "--collector", "A.EXAMPLE:8443"], "listed twice"),
            (["--collector", "::1:8443"], "goes in brackets, [::1]:8443"),
            (["--collector", "a.example"], "expected host:port"),
        ] {
            do {
                _ = try CollectorOptions.parse(arguments)
                Issue.record("accepted \(arguments)")
            } catch {
                let text = CollectorOptions.message(for: error)
                #expect(text.contains(message) && text.contains("--collector"), "\(text)")
            }
        }
        let many = (1...17).flatMap { ["--collector", "c\($0).example:8443"] }
        #expect(throws: (any Error).self) { try CollectorOptions.parse(many) }
    }
}
