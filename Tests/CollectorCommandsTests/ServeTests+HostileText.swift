import CollectorClient
import CollectorStore
import Foundation
import PortwardenModel
import PortwardenTestSupport
import Testing

/// Text from an audited host through every command that shows it, the real binary's
/// output read as an operator's terminal, a spreadsheet and a log reader would (issue 11).
extension ServeTests {
    static let policies = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Policies").path

    @Test func everyTableAndReportShowsHostTextEscaped() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        _ = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
            .ingest(HostileText.snapshot(sequence: 1, collectedAt: "2026-11-20T10:00:00Z"), host: HostileText.hostName,
                    bodyDigest: "d1", receivedAt: 1_763_632_800)
        let host = HostileText.hostName, window = ["--since", "2026-11-01", "--until", "2026-11-30", "--policy", Self.policies]
        let commands: [[String]] = [
            ["hosts", "list"], ["report", "host", host], ["report", "host", host, "--format", "markdown"],
            ["report", "host", host, "--format", "html"], ["report", "trend"] + window,
            ["report", "trend", "--format", "markdown"] + window, ["report", "trend", "--format", "html"] + window,
            ["policy", "eval", "--host", host, "--policies", Self.policies],
            ["policy", "replay", "--host", host, "--policy", Self.policies, "--since", "2026-11-01"],
        ]
        for command in commands {
            let run = try portwarden(command + ["--state-dir", state])
            let what = command.prefix(2).joined(separator: " ") + " " + (command.firstIndex(of: "--format").map { command[$0 + 1] } ?? "table")
            #expect(run.status == 0, "\(what): \(run.output)")
            #expect(HostileText.rawControls(in: run.output).isEmpty, "\(what): \(HostileText.rawControls(in: run.output))\n\(run.output)")
            if command.contains("markdown") || command.contains("html") {
                #expect(!run.output.contains("<script") && run.output.contains("&lt;script&gt;"), "\(what): \(run.output)")
            }
            if command.contains("markdown") {
                #expect(!run.output.replacing("\\[", with: "").contains("[x]("), "\(what): no link: \(run.output)")
            }
            #expect(run.output.contains("web-66\\n1999-12-31") || run.output.contains("web-66\\\\n1999-12-31"),
                    "\(what) names the host, its newline shown: \(run.output)")
            if command != ["hosts", "list"] {
                #expect(run.output.contains("=1+1+cmd"), "\(what) shows the owner: \(run.output)")
            }
        }

        let csv = state + "/listeners.csv"
        #expect(try portwarden(["export", "listeners", "--state-dir", state, "--since", "2026-11-01", "--until", "2026-11-30",
                                "--format", "csv", "--output", csv]).status == 0)
        let read = try python("""
            import csv, sys
            row = list(csv.DictReader(open(sys.argv[1], newline='')))[0]
            print(row['owner_names'].split('\\n')[0], row['owner_users'].split('\\n')[0], row['port'], row['netns'], repr(row['host'][:7]))
            """, [csv])
        #expect(read == "'=1+1+cmd|A0 root 557 1 'web-66\\n'\n", "\(read)")
    }

    /// `policy eval --snapshot` on a host's file that breaks off inside a key holding an
    /// escape, a bidi override and a newline: the error quotes the key, on one line.
    @Test func anErrorQuotingAHostsSnapshotIsOneLineWithoutControls() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let file = state + "/snapshot.json"
        try #"{"schema": 1, "\u001b[2J\u202e\n1999-12-31T00:00:00Z forged": ["#.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try portwarden(["policy", "eval", "--snapshot", file, "--policies", Self.policies, "--state-dir", state])
        #expect(run.status == 2, "\(run.output)")
        #expect(HostileText.rawControls(in: run.output).isEmpty, "\(HostileText.rawControls(in: run.output)): \(run.output)")
        #expect(run.output.hasPrefix("Error: ") && run.output.filter(\.isNewline).count == 1, "\(run.output)")
        #expect(run.output.contains(#"\x1b[2J\u202e\n1999-12-31"#), "\(run.output)")
    }

    /// A report whose body names a host with a newline in it: the collector refuses it and
    /// logs why, on one line, the name quoted — nothing in its log starts a line but the log.
    @Test func aHostNameWithANewlineCannotForgeALogLine() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        let context = try enroll("web-01")
        let logPath = state + "/serve.log"
        let port = try unusedPort()
        let server = try serve(port: port, log: logPath)
        var writer = JSONWriter()
        writer.value(HostileText.snapshot(sequence: 1, collectedAt: Timestamp.rfc3339()))
        let response = try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: context, timeout: 5)
            .post("/v1/reports", body: writer.buffer)
        #expect((400..<500).contains(response.status), "refused: \(response.text)")
        server.terminate()
        server.waitUntilExit()

        let text = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(HostileText.rawControls(in: text).isEmpty, "\(HostileText.rawControls(in: text)): \(text)")
        let lines = text.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("time=") && $0.contains(" level=") && $0.contains(" msg=\"") },
                "one event per line: \(text)")
        #expect(text.contains(#"web-66\n1999-12-31T00:00:00Z level=critical forged""#), "the name logged, quoted: \(text)")
    }
}
