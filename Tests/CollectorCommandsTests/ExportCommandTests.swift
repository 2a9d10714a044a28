import CollectorStore
import Foundation
import PortwardenModel
import Testing

/// `portwarden export` through the real binary, read back by Python's csv and json.
extension ServeTests {
    /// A history with an owner whose name holds a comma, a quote and a newline.
    func exportHistory() throws -> String {
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let odd = Owner(pid: 7, name: "a,b \"c\"\nd", exe: "/x", cmdline: ["x"], uid: 0, user: "root", unit: nil, container: nil)
        let snapshot = Snapshot(
            host: PortwardenModel.Host(hostname: "web-01", machineID: "m", bootID: "b", kernel: nil, os: nil), sequence: 1,
            collectedAt: "2026-11-20T10:00:00Z", complete: true, ownershipComplete: true, warnings: [], namespaces: [],
            listeners: [Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: 557, scope: .any, netns: 1,
                                 hostNetns: true, inode: 1, uid: 0, processes: [odd])],
            unresolved: [])
        _ = try database.ingest(snapshot, host: "web-01", bodyDigest: "d1", receivedAt: 1_763_632_800)
        return state + "/out"
    }

    func python(_ script: String, _ arguments: [String]) throws -> String {
        try execute("/usr/bin/env", ["python3", "-c", script] + arguments).output
    }

    @Test func csvSurvivesPythonsReaderAndJSONParses() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let out = try exportHistory()
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for format in ["csv", "json", "ndjson"] {
            let run = try portwarden(["export", "listeners", "--state-dir", state, "--since", "2026-11-01",
                                      "--until", "2026-11-30", "--format", format, "--output", "\(out)/listeners.\(format)"])
            #expect(run.status == 0 && run.output.isEmpty, "quiet on success: \(run.output)")
        }
        let csv = try python("""
            import csv, sys
            rows = list(csv.DictReader(open(sys.argv[1], newline='')))
            print(len(rows), repr(rows[0]['owner_names']), rows[0]['owner_users'], rows[0]['port'], rows[0]['closed'] == '',
                  rows[0]['opened'])
            """, ["\(out)/listeners.csv"])
        #expect(csv == "1 'a,b \"c\"\\\\nd' root 557 True 2026-11-20T10:00:00Z\n", "\(csv)")
        let json = try python("""
            import json, sys
            doc = json.load(open(sys.argv[1]))
            lines = [json.loads(l) for l in open(sys.argv[2])]
            print(doc['schema'], doc['export'], doc['rows'][0]['port'], doc['rows'][0]['closed'], lines == doc['rows'],
                  repr(doc['rows'][0]['owners'][0]['name']))
            """, ["\(out)/listeners.json", "\(out)/listeners.ndjson"])
        #expect(json == "2 listeners 557 None True 'a,b \"c\"\\nd'\n", "\(json)")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty, "no temporary file left: \(leftovers)")
        for kind in ["hosts", "receipts", "findings"] {
            #expect(try portwarden(["export", kind, "--state-dir", state, "--since", "30d"]).status == 0)
        }
    }

    /// `export --help` names the page that documents every column, and the page exists.
    @Test func helpPointsToTheExportsDocument() throws {
        let help = try portwarden(["export", "--help"])
        #expect(help.status == 0 && help.output.contains("docs/exports.md"), "\(help.output)")
        let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/exports.md").path
        #expect(FileManager.default.fileExists(atPath: page))
    }

    @Test func exportErrorsExitTwoAndLeaveNoFile() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let missing = try portwarden(["export", "hosts", "--state-dir", state])
        #expect(missing.status == 3 && missing.output.contains("there is no database at"), "\(missing.output)")
        _ = try exportHistory()
        let badSince = try portwarden(["export", "hosts", "--state-dir", state, "--since", "soon"])
        #expect(badSince.status == 2 && badSince.output.contains("--since \"soon\": expected a duration"), "\(badSince.output)")
        let badDir = try portwarden(["export", "hosts", "--state-dir", state, "--output", state + "/no/such/dir/x.csv"])
        #expect(badDir.status == 2 && badDir.output.contains("cannot write in"), "\(badDir.output)")
        let badKind = try portwarden(["export", "everything", "--state-dir", state])
        #expect(badKind.status == 2, "\(badKind.output)")
    }
}
