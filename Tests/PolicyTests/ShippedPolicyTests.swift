import Foundation
import Testing
import PortwardenModel
@testable import Policy

/// The files in Policies/ as shipped: they load cleanly, their cases pass, and the
/// catalogue's names agree with the system's services database.
struct ShippedPolicyTests {
    typealias F = PolicyFixtures

    func shipped() throws -> PolicySet {
        let load = try PolicySet.load(directory: F.policiesDirectory, today: F.today)
        #expect(load.diagnostics.isEmpty, "\(load.diagnostics)")
        return try #require(load.policy)
    }

    @Test func loadsWithoutDiagnosticsAndItsCasesPass() throws {
        let policy = try shipped()
        #expect(policy.rules.map(\.id) == ["openvms-sysipc-off-openvms", "isi-gl", "r-commands", "rpc-mapper-exposed", "legacy-port-exposed"])
        let results = policy.runTests(now: F.noon)
        #expect(results.count >= 10)
        for result in results {
            #expect(result.passed, "\(result.testCase.name): missing \(result.missing), unexpected \(result.unexpected.map { "\($0.rule)@\($0.listener.port)" })")
        }
    }

    @Test func aFailingCaseSaysWhatWasMissingAndWhatCameInstead() throws {
        let load = F.load(rules: "rules:\n  - {id: no-557, why: w, severity: high, when: port 557}\n", tests: """
            cases:
              - name: wrong on purpose
                host: h
                listeners: [{port: 557}, {port: 22}]
                expect: [{rule: no-557, port: 22}]
            """)
        let result = try #require(load.policy?.runTests(now: F.noon).first)
        #expect(!result.passed)
        #expect(result.missing == [ExpectedFinding(rule: "no-557", port: 22)])
        #expect(result.unexpected.map(\.listener.port) == [557])
        let typo = F.load(rules: "rules:\n  - {id: no-557, why: w, severity: high, when: port 557}\n",
                          tests: "cases:\n  - {name: n, host: h, listeners: [], expect: [no-575]}\n")
        #expect(typo.errors.first?.message.contains("did you mean 'no-557'?") == true)
    }

    @Test func theCatalogueCoversTheIssuesPortsWithTheirIANANames() throws {
        let catalog = try shipped().catalog
        let expected: [(UInt16, Transport, String)] = [
            (1, .tcp, "tcpmux"), (7, .udp, "echo"), (9, .tcp, "discard"), (11, .tcp, "systat"), (13, .tcp, "daytime"),
            (17, .tcp, "qotd"), (19, .udp, "chargen"), (21, .tcp, "ftp"), (23, .tcp, "telnet"), (37, .tcp, "time"),
            (54, .tcp, "xns-ch"), (55, .tcp, "isi-gl"), (55, .udp, "isi-gl"), (56, .tcp, "xns-auth"), (57, .tcp, "priv-term"),
            (69, .udp, "tftp"), (70, .tcp, "gopher"), (79, .tcp, "finger"), (87, .tcp, "priv-term-l"), (111, .tcp, "sunrpc"),
            (111, .udp, "sunrpc"), (135, .tcp, "epmap"), (512, .tcp, "exec"), (512, .udp, "biff"), (513, .tcp, "login"),
            (513, .udp, "who"), (514, .tcp, "shell"), (515, .tcp, "printer"), (540, .tcp, "uucp"), (557, .tcp, "openvms-sysipc"),
        ]
        for (port, transport, service) in expected {
            #expect(catalog.entry(port: port, transport: transport)?.service == service, "\(port)/\(transport)")
        }
        #expect(catalog.entry(port: 514, transport: .udp) == nil, "514/udp is syslog, a live service")
        #expect(catalog.entries.allSatisfy { !$0.why.isEmpty && !$0.why.contains("\n") })
    }

    /// Where the machine has /etc/services (netbase), every name it gives for a catalogue
    /// port and protocol must be the catalogue's.
    @Test func agreesWithEtcServices() throws {
        guard let text = try? String(contentsOfFile: "/etc/services", encoding: .utf8) else { return }
        let catalog = try shipped().catalog
        var checked = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "#", omittingEmptySubsequences: false)[0].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let slash = fields[1].firstIndex(of: "/"), let port = UInt16(fields[1][..<slash]),
                  let transport = Transport(rawValue: String(fields[1][fields[1].index(after: slash)...])),
                  let entry = catalog.entry(port: port, transport: transport) else { continue }
            #expect(entry.service == String(fields[0]), "\(fields[1]): /etc/services says \(fields[0])")
            checked += 1
        }
        #expect(checked > 20)
    }

    @Test func theDigestFollowsTheBytesButNotTheTests() throws {
        var sources = try PolicySource.read(directory: F.policiesDirectory)
        let digest = PolicySet.digest(of: sources)
        #expect(digest == (try shipped().digest))
        let testIndex = try #require(sources.firstIndex { $0.kind == .tests })
        sources[testIndex].bytes += Array("# a comment\n".utf8)
        #expect(PolicySet.digest(of: sources) == digest)
        let ruleIndex = try #require(sources.firstIndex { $0.kind == .rules })
        sources[ruleIndex].bytes += Array(" ".utf8)
        #expect(PolicySet.digest(of: sources) != digest)
    }

    /// The README's example conditions are real: each compiles against the shipped catalogue.
    @Test func readmeExamplesCompile() throws {
        let readme = try String(contentsOfFile: F.policiesDirectory + "/README.md", encoding: .utf8)
        let conditions = readme.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            for key in ["when: ", "unless: "] where trimmed.hasPrefix(key) {
                return String(trimmed.dropFirst(key.count).split(separator: "#")[0]).trimmingCharacters(in: .whitespaces)
            }
            return nil
        }
        #expect(conditions.count >= 8)
        let catalog = try shipped().catalog
        for condition in conditions {
            #expect(throws: Never.self, "\(condition)") {
                _ = try ConditionParser.compile(condition, catalog: catalog, hostTests: ConditionParser.HostTests())
            }
        }
    }

    @Test func filesAreSortedByWhatTheyHold() throws {
        #expect(PolicySource(path: "catalog.yaml", text: "").kind == .catalog)
        #expect(PolicySource(path: "inventory.yml", text: "").kind == .inventory)
        #expect(PolicySource(path: "tests/catalog.yaml", text: "").kind == .tests)
        #expect(PolicySource(path: "web.yaml", text: "").kind == .rules)
        #expect(throws: (any Error).self) { try PolicySource.read(directory: "/nonexistent/policies") }
    }
}
