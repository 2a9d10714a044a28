import Testing
@testable import Policy

/// Every error names file:line:column and what was expected.
struct DiagnosticTests {
    typealias F = PolicyFixtures

    func errors(_ rules: String, catalog: String? = F.catalog) -> [Diagnostic] {
        F.load(rules: rules, catalog: catalog).errors
    }

    func only(_ rules: String, catalog: String? = F.catalog) throws -> Diagnostic {
        let found = errors(rules, catalog: catalog)
        #expect(found.count == 1, "\(found)")
        return try #require(found.first)
    }

    @Test(arguments: [
        // (condition, column of the error inside `    when: <condition>` on line 3, words the message must have)
        ("prot 557", 11, "unknown field 'prot'; did you mean 'port'?"),
        ("port 557 and protocol tpc", 33, "did you mean 'tcp'?"),
        ("port 70000", 16, "out of range"),
        ("port 514..512", 16, "runs backwards"),
        ("port 557 && tag OpenVMS", 20, "write 'and'"),
        ("port = 557", 16, "write '=='"),
        ("(port 557 or port 55", 31, "expected ')'"),
        ("port 557 tag OpenVMS", 20, "expected 'and', 'or'"),
        ("port in [1, 2", 24, "expected ',' or ']'"),
        ("process.name ~ \"rpc*", 26, "never closed"),
        ("process.name ~ \"[rpc\"", 27, "never closed with ']'"),
        ("address in 10.0.0.0/33", 22, "prefix length"),
        ("address in 10.0.0.1/8", 22, "bits set past"),
        ("scope ~ any", 11, "'~' matches text"),
        ("process.name < 3", 11, "compares numbers"),
        ("service shel", 19, "did you mean 'shell'?"),
        ("port 557 and", 23, "expected a test"),
        ("", 10, "empty"),
        ("port ==", 18, "expected a value"),
        ("namespace container", 21, "'host' or a namespace inode"),
    ] as [(String, Int, String)])
    func conditionErrorsPointIntoTheCondition(condition: String, column: Int, message: String) throws {
        let catalog = F.catalog + "\n  - {port: 514, protocols: [tcp], service: shell, description: rsh, why: no passwords}\n"
        let error = try only("rules:\n  - id: r\n    when: \(condition)\n    why: w\n    severity: low\n", catalog: catalog)
        #expect(error.file == "rules.yaml")
        #expect(error.line == 3, "\(error)")
        #expect(error.column == column, "\(error)")
        #expect(error.message.contains(message), "\(error)")
    }

    @Test func positionsInsideQuotedAndFoldedConditions() throws {
        let quoted = try only("rules:\n  - id: r\n    why: w\n    severity: low\n    when: \"port 557 and prot tcp\"\n")
        #expect((quoted.line, quoted.column) == (5, 25))
        let folded = try only("rules:\n  - id: r\n    why: w\n    severity: low\n    when: >\n      port 557 and\n      protocl tcp\n")
        #expect((folded.line, folded.column) == (7, 7), "\(folded)")
        let plainMultiline = try only("rules:\n  - id: r\n    why: w\n    severity: low\n    when: port 557\n      and sevice exec\n")
        #expect((plainMultiline.line, plainMultiline.column) == (6, 11), "\(plainMultiline)")
    }

    @Test func unknownKeysSuggestTheNearestField() {
        let all = errors("rules:\n  - id: r\n    why: w\n    sevrity: low\n    when: port 1\n")
        #expect(all.map { "\($0.line):\($0.column)" } == ["4:5", "2:5"])
        #expect(all[0].message.contains("did you mean 'severity'?"))
        #expect(all[1].message.contains("needs 'severity'"))
    }

    @Test func missingAndMistypedFields() {
        let all = errors("""
            rules:
              - id: bad id
                why: [a, b]
                severity: severe
                when: port 1
              - why: w
                severity: low
                when: port 1
            """)
        #expect(all.map { "\($0.line):\($0.column)" } == ["2:9", "3:10", "4:15", "6:5"], "\(all)")
        #expect(all[1].message.contains("takes one value"))
        #expect(all[2].message.contains("one of info, low, medium, high, critical"))
        #expect(all[3].message.contains("needs 'id'"))
    }

    @Test func yamlSyntaxErrorsHavePositions() throws {
        let error = try only("rules:\n  - id: r\n    why: [unclosed\n")
        #expect(error.line >= 3 && error.column >= 1 && error.message.hasPrefix("YAML:"), "\(error)")
        let dup = try only("rules:\n  - id: r\n    id: s\n    why: w\n    severity: low\n    when: port 1\n")
        #expect(dup.message.contains("'id' appears twice"), "\(dup)")
    }

    /// libyaml reports a control character by its offset; the line is counted as libyaml
    /// counts lines, so a file saved with CR or CRLF line ends is not all line 1.
    @Test(arguments: ["\n", "\r", "\r\n"])
    func controlCharactersAreFoundOnTheirLine(lineEnd: String) throws {
        let error = try only(["rules:", "  - id: r", "    why: w\u{7}"].joined(separator: lineEnd))
        #expect(error.line == 3 && error.column == 11 && error.message.contains("control characters"), "\(error)")
    }

    @Test func duplicateRuleIdsPointAtTheSecond() throws {
        let error = try only("rules:\n  - {id: r, why: w, severity: low, when: port 1}\n  - {id: r, why: w, severity: low, when: port 2}\n")
        #expect(error.line == 3 && error.message.contains("already used at rules.yaml:2:"))
    }

    @Test func topLevelMustHoldRules() throws {
        let error = try only("rule:\n  - id: r\n")
        #expect(error.message.contains("did you mean 'rules'?") && error.line == 1)
    }

    @Test func catalogueUseWithoutACatalogue() throws {
        let error = try only("rules:\n  - {id: r, why: w, severity: low, when: catalog}\n", catalog: nil)
        #expect(error.message.contains("no catalog.yaml was loaded") && error.column == 42, "\(error)")
    }

    @Test func warningsForLikelyMistakes() throws {
        let load = F.load(rules: "rules:\n  - {id: r, why: w, severity: low, when: process.name == \"rpc*\" and tag OpenVms}\n",
                          inventory: "hosts:\n  - {match: vms-*, tags: [OpenVMS]}\n  - {match: web-*, tags: [web]}\n")
        #expect(load.errors.isEmpty && load.policy != nil)
        #expect(load.warnings.map(\.column) == [58], "\(load.warnings)")
        #expect(load.warnings.first?.message.contains("write '~'") == true)
        // Tags compare case-insensitively, so 'OpenVms' is known; 'OpenVSM' is not.
        let unknownTag = F.load(rules: "rules:\n  - {id: r, why: w, severity: low, when: tag OpenVSM}\n",
                                inventory: "hosts:\n  - {match: vms-*, tags: [OpenVMS]}\n")
        #expect(unknownTag.warnings.map(\.message).first?.contains("did you mean 'openvms'?") == true, "\(unknownTag.warnings)")
    }

    @Test func catalogueErrors() {
        let load = F.load(rules: "rules: []\n", catalog: """
            ports:
              - {port: 512, protocols: [tcp], service: exec, description: d, why: w}
              - {port: 512, protocols: [tcp, udb], service: exec, description: d, why: w}
              - {port: 99999, protocols: [tcp], service: x, description: d}
            """)
        #expect(load.errors.map { "\($0.line):\($0.column)" } == ["3:34", "3:5", "4:12", "4:5"], "\(load.errors)")
        #expect(load.errors[0].message.contains("did you mean 'udp'?"))
        #expect(load.errors[1].message.contains("512/tcp is already in the catalogue at catalog.yaml:2:5"))
        #expect(load.errors[3].message.contains("needs 'why'"))
    }
}
