import Foundation
import Glibc
import PortwardenTestSupport
import Testing

/// What an operator gets wrong on the first day, each answered with what to do instead
/// of a collector that runs quietly wrong.
extension ServeTests {
    /// `serve --policies` with a typo: no policy would raise no finding, so it does not start.
    @Test func aMissingPolicyDirectoryStopsServeAtOnce() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let started = try portwarden(["serve", "--state-dir", state, "--listen", "127.0.0.1:\(try unusedPort())",
                                      "--policies", state + "/Polices"])
        #expect(started.status == 2 && started.output.contains("the policy directory \(state)/Polices (--policies) does not exist"),
                "\(started.output)")
    }

    /// No policy evaluates to no finding: every host compliant, `--fail-on` never
    /// failing. Refused at start — no directory, one without rules, one whose files are
    /// refused — unless --no-policy says it is meant, and then said loudly.
    @Test func serveWithoutAPolicyRefusesToStartUnlessToldNoPolicy() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        try #require(!FileManager.default.fileExists(atPath: "/etc/portwarden/policies"), "the default directory would be taken")
        let serve = ["serve", "--state-dir", state, "--listen", "127.0.0.1:\(try unusedPort())"]
        let none = try portwarden(serve)
        #expect(none.status == 2 && none.output.contains("no policy") && none.output.contains("--policies DIR")
                && none.output.contains("--no-policy"), "\(none.output)")

        let empty = state + "/empty", broken = state + "/broken"
        for directory in [empty, broken] { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        try "hosts: []\n".write(toFile: empty + "/inventory.yaml", atomically: true, encoding: .utf8)
        let noRules = try portwarden(serve + ["--policies", empty])
        #expect(noRules.status == 2 && noRules.output.contains("holds no rule file") && noRules.output.contains("--no-policy"),
                "\(noRules.output)")
        let zero = state + "/zero"
        try FileManager.default.createDirectory(atPath: zero, withIntermediateDirectories: true)
        try "rules: []\n".write(toFile: zero + "/rules.yaml", atomically: true, encoding: .utf8)
        let zeroRules = try portwarden(serve + ["--policies", zero])
        #expect(zeroRules.status == 2 && zeroRules.output.contains("defines no rule") && zeroRules.output.contains("--no-policy"),
                "\(zeroRules.output)")
        try "rules: [ {id: x, when: 'port =='}\n".write(toFile: broken + "/rules.yaml", atomically: true, encoding: .utf8)
        let refused = try portwarden(serve + ["--policies", broken])
        #expect(refused.status == 2 && refused.output.contains("rules.yaml:2:1: error") && refused.output.contains("was refused")
                && refused.output.contains("--no-policy"), "\(refused.output)")
        let both = try portwarden(serve + ["--policies", broken, "--no-policy"])
        #expect(both.status == 2 && both.output.contains("contradict"), "\(both.output)")

        let log = state + "/serve.log"
        let server = try self.serve(port: try unusedPort(), log: log)  // --no-policy
        defer { server.terminate(); server.waitUntilExit() }
        #expect(server.isRunning)
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains("critical") && logged.contains("every host will look compliant"), "\(logged)")
    }

    /// Keys others may read: the CA's mints any host, a host's key is that host. Refused
    /// with the fix; a root-owned key its group may read (a service user) is taken.
    @Test func privateKeysOthersMayReadAreRefusedWithTheFix() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (server, port, secret) = try caSecretAndServe()
        let agentState = state + "/agent-keys"
        try secret.write(toFile: state + "/keys.secret", atomically: true, encoding: .utf8)
        #expect(try agentEnroll(port, name: "keys-1", credential: state + "/keys.secret", agentState: agentState).status == 0)
        server.terminate()
        server.waitUntilExit()

        chmod(state + "/ca.key", 0o644)
        let refused = try portwarden(["serve", "--state-dir", state, "--listen", "127.0.0.1:\(try unusedPort())", "--no-policy"])
        #expect(refused.status == 2 && refused.output.contains("others may read or change this private key (mode 0644)")
                && refused.output.contains("chmod 600 \(state)/ca.key"), "\(refused.output)")
        chmod(state + "/ca.key", 0o600)

        chmod(agentState + "/host.key", 0o604)
        let run = try agent(["run", "--once", "--collector", "127.0.0.1:\(port)", "--state-dir", agentState])
        #expect(run.status != 0 && run.output.contains("chmod 600 \(agentState)/host.key"), "\(run.output)")

        // Root's key, readable by its group: PostgreSQL's rule, for a service account.
        try #require(getuid() == 0, "the test runs as root, as CI does")
        chmod(agentState + "/host.key", 0o640)
        let again = try serve(port: port)
        defer { again.terminate(); again.waitUntilExit() }
        let ran = try agent(["run", "--once", "--collector", "127.0.0.1:\(port)", "--state-dir", agentState])
        #expect(ran.status == 0, "\(ran.output)")
    }

    @Test func aTokenForNoNameIsRefusedAndNamesAreKeptInLowerCase() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let empty = try portwarden(["enroll", "token", "create", "--names", "", "--state-dir", state])
        #expect(empty.status != 0 && empty.output.contains("--names is empty"), "\(empty.output)")
        #expect(try portwarden(["enroll", "token", "create", "--names", "WEB-*", "--state-dir", state]).status == 0)
        let listed = try jsonRows(["enroll", "token", "list"], "tokens")
        #expect(listed.map { $0["names"] } == ["web-*"], "\(listed)")
    }
}
