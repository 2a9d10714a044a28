import ConfigFile
import Testing

@Suite struct ConfigDocumentTests {
    @Test func readsNestedMappingsListsQuotesAndComments() throws {
        let file = try ConfigDocument(text: """
            ---
            # the agent
            collector: collector.example:8443   # where reports go
            server_name: "collector.example"
            spool:
              max_count: 1_000
              max_bytes: 1048576
            labels:
              role: 'web # not a comment'
            names:
              - a
              - "b c"
            empty:
            """, file: "agent.yaml")
        #expect(try file.string("collector") == "collector.example:8443")
        #expect(try file.string("server_name") == "collector.example")
        #expect(try file.int("spool.max_count", in: 1...10_000) == 1_000)
        #expect(try file.int("spool.max_bytes", in: 1...Int.max) == 1_048_576)
        #expect(file.mapping("labels") == ["role": "web # not a comment"])
        #expect(try file.strings("names") == ["a", "b c"])
        #expect(try file.string("missing") == nil)
        #expect(file.keys["spool.max_bytes"] == ConfigPosition(line: 7, column: 3))
    }

    /// Each refusal names the line and column where the reader should look.
    @Test(arguments: [
        ("a: 1\na: 2", 2, 1, "\"a\" is already set on line 1"),
        ("a:\n\tb: 1", 2, 1, "indent with spaces, not tabs"),
        ("a: [1, [2]]", 1, 8, "inside another"),
        ("a: {b c}", 1, 5, "a key is letters"),
        ("a: &x 1", 1, 4, "anchors"),
        ("a: |\n  text", 1, 4, "multi-line"),
        ("a: \"open", 1, 4, "not closed"),
        ("just words", 1, 1, "expected \"key: value\""),
        ("a:\n  b: 1\n c: 2", 3, 2, "indentation does not match"),
        ("a:\n  - 1\n  b: 2", 3, 3, "expected a list item"),
        ("a: 1\n  - x", 2, 3, "indentation does not match"),
        ("a: \"x\" y", 1, 7, "after the closing quote"),
        ("b@d: 1", 1, 1, "a key is letters"),
    ])
    func refusesWithAPosition(text: String, line: Int, column: Int, message: String) {
        do {
            _ = try ConfigDocument(text: text, file: "c.yaml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.file == "c.yaml")
            #expect(error.line == line && error.column == column, "\(error)")
            #expect(error.message.contains(message), "\(error)")
        }
    }

    @Test func unknownKeysSuggestTheNearestKnownOne() throws {
        let file = try ConfigDocument(text: "colector: x:1\n", file: "agent.yaml")
        #expect(throws: ConfigError(file: "agent.yaml", line: 1, column: 1,
                                    message: "unknown key \"colector\"; did you mean \"collector\"?")) {
            try file.requireOnly(["collector", "interval"])
        }
        let nested = try ConfigDocument(text: "spool:\n  max_cuont: 3\nlabels:\n  any: thing\n", file: "agent.yaml")
        #expect(throws: ConfigError(file: "agent.yaml", line: 2, column: 3,
                                    message: "unknown key \"spool.max_cuont\"; did you mean \"spool.max_count\"?")) {
            try nested.requireOnly(["spool.max_count", "labels.*"])
        }
        try ConfigDocument(text: "spool:\n  max_count: 3\nlabels:\n  any: thing\n", file: "a").requireOnly(["spool.max_count", "labels.*"])
    }

    @Test func valuesOutOfRangeOrOfTheWrongShapeNameTheirPosition() throws {
        let file = try ConfigDocument(text: "interval: soon\nspool:\n  max_count: 5\n", file: "a.yaml")
        #expect(throws: ConfigError(file: "a.yaml", line: 1, column: 11,
                                    message: "\"interval\" must be a whole number from 1 to 60; got \"soon\"")) {
            try file.int("interval", in: 1...60)
        }
        #expect(throws: ConfigError(file: "a.yaml", line: 2, column: 1, message: "\"spool\" takes a single value")) {
            try file.string("spool")
        }
    }

    @Test func aMissingFileIsAnErrorNamingIt() {
        #expect(throws: ConfigError(file: "/nonexistent/x.yaml", line: 0, column: 0, message: "cannot read the file: No such file or directory")) {
            try ConfigDocument(path: "/nonexistent/x.yaml")
        }
    }
}

/// A quote or bracket inside a plain value is text, as YAML (and PyYAML, which writes such
/// values unquoted) reads it: it must not swallow the lines after it — a `redact:` list
/// lost that way sends secrets to the collector.
@Suite struct PlainValueTextTests {
    @Test(arguments: ["a[b", "a{b", "x, 'b", "x-\"b", "it's", "a]b}"])
    func aBracketOrQuoteInsideAPlainValueIsText(value: String) throws {
        let file = try ConfigDocument(text: """
            labels:
                note: \(value)
                site: fra-2
            redact:
            - zork

            """, file: "agent.yaml")
        #expect(file.mapping("labels") == ["note": value, "site": "fra-2"])
        #expect(try file.strings("redact") == ["zork"])
    }

    @Test func aQuoteLeftOpenIsRefusedQuicklyNamingItsLine() throws {
        let filler = String(repeating: "    other: some words that fill this line up to sixty bytes\n", count: 3_000)
        let text = "collector: c:1\nlabels:\n    note: \"open\n" + filler + "redact:\n- zork\n"
        let clock = ContinuousClock(), started = clock.now
        #expect(throws: ConfigError.self) { try ConfigDocument(text: text, file: "agent.yaml") }
        // 1.3 s in a debug build on an idle machine, 5.7 s beside a loaded CI run; rescanning
        // the rest of the file at each of its 3,000 lines would take minutes.
        #expect(clock.now - started < .seconds(20), "a quote left open rescans the rest of the file")
    }
}
