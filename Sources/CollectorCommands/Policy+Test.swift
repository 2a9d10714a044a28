import ArgumentParser
import Foundation
import Policy

extension PolicyCommand {
    /// `portwarden policy test`
    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the policy's test cases (tests/*.yaml) and print each PASS or FAIL.",
            discussion: """
                Each case is a host, its listeners and exactly the findings expected; a case \
                fails when an expected finding is missing or another one appears, and both are \
                listed. Exit status: 0 when every case passes, 1 when one fails, 2 when the \
                policy has errors.
                """)

        @OptionGroup var state: StateOptions
        @OptionGroup var options: PolicyOptions

        func run() throws {
            let directory = try options.directory(state)
            let now = Date()
            let policy = try PolicySet.loadForCommand(directory: directory, now: now, assignedTags: [])
            let results = policy.runTests(now: now)
            for result in results {
                print("\(result.passed ? "PASS" : "FAIL")  \(result.testCase.location)  \(result.testCase.name)")
                for missing in result.missing { print("      missing:    \(missing)") }
                for finding in result.unexpected {
                    print("      unexpected: \(finding.rule) on \(finding.listener.transport.rawValue) \(finding.listener.address):\(finding.listener.port)\(finding.isWaived ? " (waived)" : "")")
                }
            }
            let failed = results.filter { !$0.passed }.count
            print("\(results.count) cases, \(results.count - failed) passed, \(failed) failed")
            if results.isEmpty { printError("warning: \(directory) has no test cases (tests/*.yaml)") }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
