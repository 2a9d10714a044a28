import Foundation
import Testing
@testable import Policy

/// `entries(singlingOut:)`: every policy entry that treats a host by its name — what a
/// host enrolling itself could grant itself by picking that name.
struct NameEntryTests {
    typealias F = PolicyFixtures

    static let rules = """
        rules:
          - {id: no-557, why: w, severity: high, when: port 557, unless: tag OpenVMS}
          - {id: no-55, why: w, severity: high, when: port 55, unless: 'host.name ~ "build-*" or label role'}
          - {id: no-512, why: w, severity: high, when: 'port 512 and not (host.name in [special-1, "Other-2"])'}
          - {id: no-69, why: w, severity: low, when: port 69}

        """
    static let waivers = """
        waivers:
          - rule: no-69
            host: "LAB-*"
            owner: lab@example.com
            reason: PXE
            expires: 2020-01-01

        """
    static let inventory = "hosts:\n  - {match: \"vms-*\", tags: [OpenVMS, legacy]}\n"

    func policy() throws -> PolicySet {
        let load = F.load(rules: Self.rules, inventory: Self.inventory, waivers: Self.waivers)
        return try #require(load.policy, "\(load.errors)")
    }

    @Test func eachKindOfEntryIsFoundWithItsPlace() throws {
        let policy = try policy()
        let waiver = policy.entries(singlingOut: "lab-rogue")
        #expect(waiver == [NameEntry(kind: .waiver(rule: "no-69"), pattern: "LAB-*",
                                     location: SourceLocation(file: "waivers.yaml", line: 2, column: 5))])
        #expect(waiver.first?.description == "waiver of no-69 for 'LAB-*' (waivers.yaml:2) matches this name",
                "expired, yet a replay or a late report may still fall within it")
        let rule = policy.entries(singlingOut: "build-7")
        #expect(rule.map(\.kind) == [.rule(id: "no-55")] && rule.first?.pattern == "build-*")
        #expect(rule.first?.description == "rule no-55 (rules.yaml:3) tests host.name 'build-*', which matches this name")
        #expect(policy.entries(singlingOut: "other-2").map(\.kind) == [.rule(id: "no-512")], "inside not, in a list, any case")
        let inventory = policy.entries(singlingOut: "vms-a")
        #expect(inventory.map(\.kind) == [.inventory(tags: ["OpenVMS", "legacy"])])
        #expect(inventory.first?.description.contains("(inventory.yaml:2) matches this name and tags it OpenVMS, legacy") == true)
    }

    @Test(arguments: ["web-01", "lab", "xlab-1", "build", "special-10", "vms"])
    func namesThePolicyTreatsLikeAnyOtherHaveNone(_ name: String) throws {
        #expect(try policy().entries(singlingOut: name).isEmpty, "\(name)")
    }

    /// The answer agrees with evaluation: a name found exempt by a rule or waiver is one
    /// the function names, and one it does not name gets every finding.
    @Test(arguments: ["lab-rogue", "build-7", "special-1", "vms-a", "web-01"])
    func aNameIsSingledOutExactlyWhenEvaluationTreatsItDifferently(_ name: String) throws {
        let policy = try policy()
        let listeners = [557, 55, 512, 69].map { F.listener(port: UInt16($0)) }
        func findings(_ host: String) -> [String] {
            policy.evaluate(listeners: listeners, host: HostFacts(name: host, tags: policy.inventory.tags(for: host)),
                            now: Date(timeIntervalSince1970: 1_577_836_800))  // 2020-01-01, the waiver's last day
                .map { "\($0.rule)\($0.isWaived ? " waived" : "")" }
        }
        let plain = findings("plain-host")
        #expect((findings(name) != plain) == !policy.entries(singlingOut: name).isEmpty, "\(name): \(findings(name))")
    }
}
