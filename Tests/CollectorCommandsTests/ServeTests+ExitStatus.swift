import Foundation
import PortwardenTestSupport
import PortwardenModel
import Testing

/// The exit statuses docs/OPERATIONS.md ("Commands") promises, each seen once from each
/// executable, from the command a cron line or a configuration tool would run.
extension ServeTests {
    @Test func everyDocumentedStatusOfTheCollector() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        #expect(try portwarden(["hosts", "list", "--state-dir", state]).status == 0)

        // 1: the checked condition failed — a policy test case that does not hold.
        let policies = state + "/Policies"
        try FileManager.default.copyItem(atPath: Self.policies, toPath: policies)
        try "cases:\n  - name: 557 is fine (it is not)\n    host: web-09\n    listeners:\n      - {port: 557, process: nc}\n    expect: []\n"
            .write(toFile: policies + "/tests/wrong.yaml", atomically: true, encoding: .utf8)
        let failing = try portwarden(["policy", "test", "--policies", policies])
        #expect(failing.status == 1, "\(failing.output)")

        // 2: usage and input — argument-parser's own errors included, never its 64.
        #expect(try portwarden(["hosts", "list", "--no-such-flag"]).status == 2)
        #expect(try portwarden(["hosts", "list", "--stale-after", "a while", "--state-dir", state]).status == 2)
        let typo = try portwarden(["hosts", "tag", "nosuchhost", "OpenVMS", "--state-dir", state])
        #expect(typo.status == 2 && typo.output.contains("no host named nosuchhost") && typo.output.contains("portwarden hosts list"),
                "\(typo.output)")

        // 3: could not do the job — no database there, or a file that is not one.
        #expect(try portwarden(["hosts", "list", "--state-dir", state + "/nowhere"]).status == 3)
        let broken = state + "/broken"
        try FileManager.default.createDirectory(atPath: broken, withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: broken + "/portwarden.sqlite"))
        let garbage = try portwarden(["hosts", "list", "--state-dir", broken])
        #expect(garbage.status == 3, "\(garbage.output)")
        // …or a disk that is full under the report being written.
        if SmallDisk.available {
            let disk = try SmallDisk(megabytes: 1)
            _ = disk.fill("ballast")
            let full = try portwarden(["report", "trend", "--since", "1d", "--format", "html", "--output", disk.path + "/trend.html",
                                       "--state-dir", state])
            #expect(full.status == 3 && full.output.contains("No space left on device"), "\(full.output)")
        }

        // 75: try again later — another writer holds the database past the 5 s wait.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", """
            import sqlite3, sys
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute("BEGIN EXCLUSIVE")
            print("held", flush=True)
            sys.stdin.read()
            """, state + "/portwarden.sqlite"]
        // Held until its stdin closes: python3 may be a shim that a signal to it would not reach.
        let said = Pipe(), release = Pipe()
        holder.standardOutput = said
        holder.standardInput = release
        try holder.run()
        defer { try? release.fileHandleForWriting.close(); holder.waitUntilExit() }
        try #require(String(decoding: said.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("held"))
        let busy = try portwarden(["hosts", "tag", "web-01", "OpenVMS", "--create", "--state-dir", state])
        #expect(busy.status == 75, "\(busy.output)")
    }

    @Test func everyDocumentedStatusOfTheAgent() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        // 2, never argument-parser's 64; 3 when /proc cannot be read.
        #expect(try agent(["scan", "--no-such-flag"]).status == 2)
        let interval = try agent(["run", "--once", "--interval", "a day"])
        #expect(interval.status == 2 && interval.output.contains("'a day' is not a duration such as"), "\(interval.output)")
        let badConfig = FileManager.default.temporaryDirectory.appendingPathComponent("agent-\(UUID().uuidString).yaml").path
        try "labels:\n\trole: web\n".write(toFile: badConfig, atomically: true, encoding: .utf8)
        defer { unlink(badConfig) }
        let refusedConfig = try agent(["run", "--once", "--config", badConfig])
        #expect(refusedConfig.status == 2 && refusedConfig.output.contains("\(badConfig):2:1"), "\(refusedConfig.output)")
        #expect(try agent(["scan", "--proc-root", "/nonexistent/proc"]).status == 3)

        // 0 enrolled (and again: already enrolled), 75 with the collector away, 1 when a
        // snapshot is refused for good, 3 when enrollment is refused for good.
        let port = try unusedPort()
        let (server, config, agentState) = try enrolledAgent(port: port)
        try writeSecret(state + "/again.secret")
        let again = try agent(["enroll", "--config", config, "--secret-file", state + "/again.secret", "--ca-file", state + "/ca.pem",
                               "--name", "web-01"])
        #expect(again.status == 0 && again.output.contains("already enrolled as web-01 until 20"), "\(again.output)")
        server.terminate()
        server.waitUntilExit()
        let away = try agent(["run", "--once", "--config", config])
        #expect(away.status == 75, "\(away.output)")
        try Data(Self.report("db-01", sequence: 1)).write(to: URL(fileURLWithPath: agentState + "/spool/00000000000000000001.json"))
        let back = try serve(port: port)
        defer { back.terminate(); back.waitUntilExit() }
        let setAside = try agent(["run", "--once", "--config", config])
        #expect(setAside.status == 1, "\(setAside.output)")
        try (String(repeating: "0", count: 64) + "\n").write(toFile: state + "/wrong.secret", atomically: true, encoding: .utf8)
        let wrong = try agent(["enroll", "--collector", "127.0.0.1:\(port)", "--secret-file", state + "/wrong.secret",
                               "--ca-file", state + "/ca.pem", "--state-dir", state + "/agent-2", "--name", "web-02"])
        #expect(wrong.status == 3, "\(wrong.output)")
        // A collector whose certificate does not verify here (another CA's file) is no
        // reason to wait: 3, saying which file and name to check — not 75 forever.
        let otherCA = state + "/other-ca"
        try #require(try portwarden(["ca", "init", "--state-dir", otherCA, "--name", "127.0.0.1"]).status == 0)
        let untrusted = try agent(["enroll", "--collector", "127.0.0.1:\(port)", "--secret-file", state + "/wrong.secret",
                                   "--ca-file", otherCA + "/ca.pem", "--state-dir", state + "/agent-3", "--name", "web-03"])
        #expect(untrusted.status == 3 && untrusted.output.contains("does not trust the collector's certificate"), "\(untrusted.output)")
    }
}
