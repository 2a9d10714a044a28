import Foundation
import PortwardenTestSupport
import Testing

/// One duration syntax in every flag and key; the key named in days still read, with a
/// warning that says what to write instead.
extension ServeTests {
    @Test func durationsAreOneSyntaxAndTheDaysKeyIsStillReadWithAWarning() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let config = state + "/collector.yaml", log = state + "/serve.log"
        try "stale_after: 15m\nreceipt_retention_days: 30\n".write(toFile: config, atomically: true, encoding: .utf8)
        let server = try serve(port: try unusedPort(), ["--config", config, "--receipt-retention-days", "30"], log: log)
        server.terminate()
        server.waitUntilExit()
        let said = try String(contentsOfFile: log, encoding: .utf8)
        #expect(said.contains("\(config):2: receipt_retention_days is deprecated: write receipt_retention: 30d instead"), "\(said)")
        #expect(said.contains("--receipt-retention-days is deprecated: pass --receipt-retention 30d instead"), "\(said)")

        try "receipt_retention: 30d\nreceipt_retention_days: 30\n".write(toFile: config, atomically: true, encoding: .utf8)
        let both = try portwarden(["serve", "--config", config, "--state-dir", state, "--no-policy"])
        #expect(both.status == 2 && both.output.contains("keep receipt_retention only"), "\(both.output)")
        let short = try portwarden(["serve", "--receipt-retention", "12h", "--state-dir", state, "--no-policy"])
        #expect(short.status == 2 && short.output.contains("--receipt-retention must be from 1d to 36500d"), "\(short.output)")
        let seconds = try portwarden(["serve", "--stale-after", "0", "--state-dir", state, "--no-policy"])
        #expect(seconds.status == 2 && seconds.output.contains("--stale-after must be from 1s to 365d"), "\(seconds.output)")
        #expect(try portwarden(["hosts", "list", "--stale-after", "2w", "--state-dir", state]).status == 0)
        let never = try portwarden(["hosts", "list", "--stale-after", "0s", "--state-dir", state])
        #expect(never.status == 2 && never.output.contains("--stale-after must be from 1s to 365d"), "\(never.output)")
    }
}
