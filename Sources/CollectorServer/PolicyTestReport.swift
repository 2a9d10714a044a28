import Policy

/// What a policy's own tests said when it was loaded: how many cases passed, which
/// failed, and the errors of test files that could not be read. Reported in the log
/// and /metrics; refuses the policy only under `serve --strict-policy-tests`.
struct PolicyTestReport: Sendable {
    var passed = 0
    /// `name (file:line)` of each failing case.
    var failed: [String] = []
    var unreadable: [Diagnostic] = []

    init() {}

    init(_ results: [PolicyTestResult], unreadable: [Diagnostic]) {
        passed = results.filter(\.passed).count
        failed = results.filter { !$0.passed }.map { "\($0.testCase.name) (\($0.testCase.location))" }
        self.unreadable = unreadable
    }

    /// `3 tests passed, 1 failed`, as the load's event says it.
    var summary: String {
        "\(passed) test\(passed == 1 ? "" : "s") passed, \(failed.count) failed"
            + (unreadable.isEmpty ? "" : ", \(unreadable.count) error\(unreadable.count == 1 ? "" : "s") in test files")
    }

    /// Why the tests count against the policy; nil when every case passed and every file read.
    var failure: String? {
        guard !failed.isEmpty || !unreadable.isEmpty else { return nil }
        var parts: [String] = []
        if !failed.isEmpty { parts.append("\(failed.count) of its test\(failed.count + passed == 1 ? "" : "s") fail\(failed.count == 1 ? "s" : "")") }
        if !unreadable.isEmpty { parts.append("its test files have \(unreadable.count) error\(unreadable.count == 1 ? "" : "s") (those tests were not run)") }
        return parts.joined(separator: " and ")
    }

    /// The failing cases and the test files' errors, one line each.
    var detail: String {
        (failed.map { "FAIL \($0)" } + unreadable.map(\.description)).joined(separator: "\n")
    }
}
