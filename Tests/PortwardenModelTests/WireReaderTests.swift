import Foundation
import Testing
@testable import PortwardenModel

/// The collector's reader against the writer, with Foundation's decoder as the referee.
struct WireReaderTests {
    @Test func readsWhatTheWriterWrote() throws {
        let bytes = WireFormatTests.written(WireFormatTests.snapshot)
        #expect(try Snapshot(wire: bytes) == WireFormatTests.snapshot)
        #expect(try Snapshot(wire: bytes) == JSONDecoder().decode(Snapshot.self, from: Data(bytes)))
    }

    @Test func readsJSONTheWriterWouldNotProduce() throws {
        // Whitespace, escapes the writer never uses, keys in another order, unknown keys
        // with nested values, optional keys absent.
        let text = """
            { "unknown": {"a": [1, {"b": null}], "c": "\\u00e9"},
              "listeners": [ { "found_by": "procfs", "protocol": "tcp", "family": "ipv6", "address": "::",
                "port": 557, "scope": "any", "netns": 1, "host_netns": true, "inode": 2, "uid": 0,
                "processes": [ { "pid": 7, "name": "a\\/b \\ud83d\\ude00 \\u00e9", "cmdline": [], "uid": 0 } ] } ],
              "schema": 1, "host": {"hostname": "h", "new_field": [true, false]},
              "collected_at": "2026-11-25T00:00:00Z", "complete": true, "ownership_complete": false,
              "warnings": [], "namespaces": [], "unresolved": [] }
            """
        let snapshot = try Snapshot(wire: Array(text.utf8))
        #expect(snapshot.sequence == nil && snapshot.host.machineID == nil)
        #expect(snapshot.listeners.first?.processes.first?.name == "a/b 😀 é")
        #expect(try snapshot == JSONDecoder().decode(Snapshot.self, from: Data(text.utf8)))
    }

    /// Each refusal says where (byte offset and key path) and what was wrong.
    @Test(arguments: [
        (#"{"schema": 1}"#, "", "missing key \"host\""),
        (#"{"schema": "1"}"#, "schema", "expected a whole number"),
        (#"{"schema": 1.5}"#, "schema", "expected a whole number"),
        (#"{"listeners": [{"port": 70000}]}"#, "listeners.0.port", "70000 is out of range 0...65535"),
        (#"{"listeners": [{"protocol": "sctp"}]}"#, "listeners.0.protocol", "\"sctp\" is not a valid Transport"),
        (#"{"listeners": [{}]}"#, "listeners.0", "missing key \"protocol\""),
        ("{\"host\": {\"hostname\": \"a\u{1}\"}}", "host.hostname", "control character"),
        (#"{"host": {"hostname": "open"#, "host.hostname", "not closed"),
        (#"{"schema": 1 "host": {}}"#, "", "expected \",\" or \"}\""),
        (#"{"warnings": ["a" "b"]}"#, "warnings", "expected \",\" or \"]\""),
        (#"{"host": {"hostname": "\x"}}"#, "host.hostname", "unknown escape"),
        // Found by fuzz/run.sh wire-snapshot: a document ending in a backslash inside a
        // string gave an offset one past its end.
        (#"{"schema\\x\"#, "", "the string is not closed"),
        (#"{"warnings": ["a\"#, "warnings.0", "the string is not closed"),
        (#"{"host": {"hostname": "\ud800"}}"#, "host.hostname", "unpaired surrogate"),
        (#"[]"#, "", "expected an object"),
        (#""#, "", "expected an object"),
    ])
    func refusesWithAPlace(text: String, path: String, message: String) {
        do {
            _ = try Snapshot(wire: Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.path == path, "\(error)")
            #expect(error.message.contains(message), "\(error)")
            #expect(error.offset <= text.utf8.count)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = "{\"unknown\": " + String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000) + "}"
        #expect(throws: WireError.self) { try Snapshot(wire: Array(deep.utf8)) }
    }

    @Test func theOffsetPointsAtTheFault() {
        let text = #"{"schema": 1, "complete": maybe}"#
        #expect(throws: WireError(offset: 26, path: "complete", message: "expected true or false")) {
            try Snapshot(wire: Array(text.utf8))
        }
        #expect(throws: WireError(offset: 17, path: "", message: "unexpected bytes after the document")) {
            try WireReader.decode(PortwardenModel.Host.self, from: Array(#"{"hostname":"h"} x"#.utf8))
        }
    }
}
