import CollectorStore
import Foundation
import Testing

/// `portwarden report` through the real binary: cron's contract (quiet, atomic,
/// exit codes) on a collector history with one open finding.
extension ServeTests {
    @Test func reportsAreQuietAtomicAndFailOnSeverity() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        _ = try exportHistory()  // web-01 listening on 557/tcp: not evaluated yet
        let policies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies").path
        // Evaluate the stored listeners under the default policy, as the server does.
        let eval = try portwarden(["policy", "eval", "--host", "web-01", "--state-dir", state, "--policies", policies, "--format", "json"])
        #expect(eval.output.contains("openvms-sysipc-off-openvms"), "\(eval.output)")

        let html = state + "/reports/trend.html"
        try FileManager.default.createDirectory(atPath: state + "/reports", withIntermediateDirectories: true)
        let trend = try portwarden(["report", "trend", "--state-dir", state, "--since", "2026-11-01", "--until", "2026-11-30",
                                    "--policy", policies, "--format", "html", "--output", html])
        #expect(trend.status == 0 && trend.output.isEmpty, "quiet on success: \(trend.output)")
        let page = try String(contentsOfFile: html, encoding: .utf8)
        #expect(page.contains("<svg id=\"exposure-chart\"") && page.contains("openvms-sysipc-off-openvms"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: state + "/reports") == ["trend.html"], "no temporary file left")

        let failing = try portwarden(["report", "trend", "--state-dir", state, "--since", "2026-11-01", "--until", "2026-11-30",
                                      "--policy", policies, "--fail-on", "high", "--format", "json"])
        #expect(failing.status == 1, "a critical finding is open: \(failing.output)")
        let passing = try portwarden(["report", "trend", "--state-dir", state, "--since", "2026-11-01", "--until", "2026-11-30",
                                      "--fail-on", "high", "--format", "csv"])
        #expect(passing.status == 0, "no stored finding (the server never evaluated this history): \(passing.output)")

        let host = try portwarden(["report", "host", "web-01", "--state-dir", state, "--format", "markdown"])
        #expect(host.status == 0 && host.output.contains("# Host web-01"), "\(host.output)")
        let badZone = try portwarden(["report", "trend", "--state-dir", state, "--tz", "Mars/Olympus"])
        #expect(badZone.status == 2 && badZone.output.contains("not a time zone"), "\(badZone.output)")
        let noHost = try portwarden(["report", "host", "nobody", "--state-dir", state])
        #expect(noHost.status == 2 && noHost.output.contains("no host named nobody"), "\(noHost.output)")
    }
}
