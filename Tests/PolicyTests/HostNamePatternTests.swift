import Policy
import Testing

/// Inventory patterns and enrollment tokens match host names in their normal form.
struct HostNamePatternTests {
    typealias F = PolicyFixtures

    @Test(arguments: [("vms-*", "vms-01", true), ("vms-*", "VMS-01.", true), ("VMS-*.", "vms-01", true),
                      ("nfs-[0-9]*", "nfs-7a", true), ("nfs-[0-9]*", "nfs-x", false), ("*.lab.example", "a.lab.example.", true),
                      ("web-?", "web-10", false), ("vms-*", "xvms-1", false)])
    func patternsMatchNamesInNormalForm(_ pattern: String, _ name: String, _ matches: Bool) throws {
        #expect(try HostNamePattern(pattern).matches(name) == matches)
    }

    @Test(arguments: [("vms_*", "_"), ("web 1", " "), ("a\\*", "*"), ("vms-*", nil), ("[a_]*", nil)] as [(String, Character?)])
    func aPatternNoHostNameCanMatchIsNamed(_ pattern: String, _ stray: Character?) throws {
        #expect(try HostNamePattern(pattern).strayCharacter == stray)
    }

    @Test func theInventoryWarnsAboutAPatternThatMatchesNoHostAndReadsNamesInNormalForm() throws {
        let load = F.load(rules: "rules: []\n", inventory: "hosts:\n  - {match: VMS-*., tags: [OpenVMS]}\n  - {match: db_*, tags: [db]}\n")
        let policy = try #require(load.policy, "\(load.errors)")
        #expect(load.warnings.map(\.message) == ["'db_*' matches no host: host names hold only a-z, 0-9, '-' and '.', not '_'"])
        #expect(policy.inventory.tags(for: "vms-1") == ["OpenVMS"])
        #expect(policy.inventory.tags(for: "Vms-1.") == ["OpenVMS"])
    }
}
