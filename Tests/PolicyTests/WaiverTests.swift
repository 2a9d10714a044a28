import Foundation
import Testing
@testable import Policy

/// A waived finding is reported as waived; after its expiry day it is a finding again by itself.
struct WaiverTests {
    typealias F = PolicyFixtures

    static let rules = "rules:\n  - {id: no-557, why: w, severity: high, when: port 557}\n  - {id: no-55, why: w, severity: high, when: port 55}\n"

    func waivers(_ entries: String, today: Day = F.today) -> PolicyLoad {
        F.load(rules: Self.rules, waivers: "waivers:\n" + entries, today: today)
    }

    static let labWaiver = """
          - rule: no-557
            host: "LAB-*"
            port: 500..600
            process: vmsd
            owner: vms-team@example.com
            reason: migration test rig
            expires: 2026-06-30

        """

    func evaluate(_ policy: PolicySet, host: String = "lab-3", process: String = "vmsd", on day: String) -> [Finding] {
        let date = Day(iso: day)!
        return policy.evaluate(listeners: [F.listener(port: 557, owners: [F.owner(process)]), F.listener(port: 55)],
                               host: HostFacts(name: host, tags: []), now: Date(timeIntervalSince1970: Double(date.ordinal) * 86_400 + 86_399))
    }

    @Test func waivedUntilTheEndOfTheExpiryDayThenLiveAgain() throws {
        let policy = try #require(waivers(Self.labWaiver).policy)
        let during = evaluate(policy, on: "2026-06-30")
        #expect(during.map(\.rule) == ["no-557", "no-55"])
        #expect(during[0].isWaived && during[0].waiver?.owner == "vms-team@example.com")
        #expect(!during[1].isWaived, "the waiver names rule no-557 only")
        let after = evaluate(policy, on: "2026-07-01")
        #expect(after.map(\.rule) == ["no-557", "no-55"] && after.allSatisfy { !$0.isWaived })
    }

    @Test func hostPortAndProcessMustAllMatch() throws {
        let policy = try #require(waivers(Self.labWaiver).policy)
        #expect(evaluate(policy, host: "web-1", on: "2026-06-20")[0].waiver == nil)
        #expect(evaluate(policy, process: "nc", on: "2026-06-20")[0].waiver == nil)
        #expect(evaluate(policy, host: "Lab-9", on: "2026-06-20")[0].waiver != nil, "host patterns ignore case")
    }

    @Test func nextExpiryIsTheMidnightAfterTheLastDay() throws {
        let policy = try #require(waivers(Self.labWaiver).policy)
        #expect(policy.nextWaiverExpiry(after: F.noon) == Date(timeIntervalSince1970: Double(Day(iso: "2026-07-01")!.ordinal) * 86_400))
        #expect(policy.nextWaiverExpiry(after: Day(iso: "2026-07-02")!.end) == nil)
    }

    @Test func checkWarnsBeforeAndAfterExpiry() {
        let soon = waivers(Self.labWaiver, today: Day(iso: "2026-06-17")!)
        #expect(soon.warnings.map(\.message) == ["this waiver of 'no-557' for 'LAB-*' expires on 2026-06-30, in 13 days"])
        #expect(soon.warnings.first.map { ($0.file, $0.line, $0.column) } ?? ("", 0, 0) == ("waivers.yaml", 8, 14))
        #expect(waivers(Self.labWaiver, today: Day(iso: "2026-06-16")!).warnings.isEmpty, "14 days ahead is not yet within 14 days")
        let expired = waivers(Self.labWaiver, today: Day(iso: "2026-07-01")!)
        #expect(expired.policy != nil && expired.warnings.first?.message.contains("expired on 2026-06-30") == true)
    }

    @Test func everyFieldIsRequiredAndChecked() {
        let load = waivers("""
              - rule: no-577
                host: "lab-*"
                port: 70000
                reason: r
                expires: 2026-02-30
            """)
        #expect(load.policy == nil)
        #expect(load.errors.map { "\($0.line):\($0.column)" } == ["2:11", "4:11", "2:5", "6:14"], "\(load.errors)")
        #expect(load.errors[0].message.contains("did you mean 'no-557'?"))
        #expect(load.errors[2].message.contains("needs 'owner'"))
        #expect(load.errors[3].message.contains("YYYY-MM-DD"))
    }

    @Test func anEmptyListOrAnEmptyFileIsNoWaivers() throws {
        #expect(F.load(rules: Self.rules, waivers: "waivers: []\n").policy?.waivers.isEmpty == true)
        #expect(F.load(rules: Self.rules, waivers: "# nothing yet\n").policy?.waivers.isEmpty == true)
    }
}
