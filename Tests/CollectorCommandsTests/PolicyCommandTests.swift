import CollectorStore
import Foundation
import PortwardenModel
import Testing

/// `portwarden policy …` and `hosts tag|untag` as an operator runs them: the real binary.
@Suite(.serialized)
struct PolicyCommandTests {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Policies").path

    let scratch: String = FileManager.default.temporaryDirectory.appendingPathComponent("pw-policy-cmd-\(UUID().uuidString)").path

    func portwarden(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try runProcess(ServeTests.portwarden, arguments)
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = scratch + "/" + name
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func snapshot(_ host: String, at time: String, ports: [UInt16]) -> Snapshot {
        Snapshot(host: Host(hostname: host, machineID: "m", bootID: "b", kernel: nil, os: nil), sequence: nil,
                 collectedAt: time, complete: true, ownershipComplete: true, warnings: [], namespaces: [],
                 listeners: ports.map {
                     Listener(transport: .tcp, family: .ipv4, address: "0.0.0.0", port: $0, scope: .any, netns: 1,
                              hostNetns: true, inode: UInt64($0), uid: 0,
                              processes: [Owner(pid: 9, name: "vmsd", exe: "/opt/vmsd", cmdline: [], uid: 0, user: "root",
                                                unit: nil, container: nil)])
                 }, unresolved: [])
    }

    static func rfc3339(_ date: Date) -> String { date.formatted(.iso8601) }

    @Test func checkPointsAtTheErrorAndExits2() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let broken = try write("rules:\n  - id: x\n    why: y\n    severity: severe\n    when: port 557\n", "legacy.yaml")
        let (status, output) = try portwarden(["policy", "check", broken])
        #expect(status == 2, "\(output)")
        #expect(output.contains("\(broken):4:15: error: "), "\(output)")
        #expect(output.contains("severe"))

        let shipped = try portwarden(["policy", "check", "--policies", Self.shipped])
        #expect(shipped.status == 0, "\(shipped.output)")
        #expect(shipped.output.contains("ok"))
        #expect(try portwarden(["policy", "check", scratch + "/missing.yaml"]).status == 2)
    }

    @Test func testPassesOnTheShippedPolicyAndFailsOnAFailingCase() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let passing = try portwarden(["policy", "test", "--policies", Self.shipped])
        #expect(passing.status == 0, "\(passing.output)")
        #expect(passing.output.contains("PASS") && !passing.output.contains("FAIL"))

        let copy = scratch + "/Policies"
        try FileManager.default.copyItem(atPath: Self.shipped, toPath: copy)
        _ = try write("""
            cases:
              - name: 557 on a web host is fine (it is not)
                host: web-09
                listeners:
                  - {port: 557, process: nc}
                expect: []
            """, "Policies/tests/wrong.yaml")
        let failing = try portwarden(["policy", "test", "--policies", copy])
        #expect(failing.status == 1, "\(failing.output)")
        #expect(failing.output.contains("FAIL"))
        #expect(failing.output.contains("unexpected: openvms-sysipc-off-openvms"))
    }

    /// One default policy directory for `serve` and the `policy` commands: the config's
    /// `policies:`, else /etc/portwarden/policies — never a Policies/ that happens to be in
    /// the working directory (a shell's and a unit's differ). The counts are in good English.
    @Test func thePolicyCommandsDefaultIsServesAndNotTheWorkingDirectory() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        _ = try write("rules: [this is not a rule\n", "Policies/broken.yaml")
        let bare = try runProcess(ServeTests.portwarden, ["policy", "check", "--state-dir", scratch + "/state"], in: scratch)
        #expect(!bare.output.contains("broken.yaml"), "the working directory's Policies/ is not read: \(bare.output)")
        if !FileManager.default.fileExists(atPath: "/etc/portwarden/policies") {
            #expect(bare.status == 2 && bare.output.contains("--policies DIR") && bare.output.contains("/etc/portwarden/policies"),
                    "\(bare.output)")
            let serve = try runProcess(ServeTests.portwarden, ["serve", "--state-dir", scratch + "/state"], in: scratch)
            #expect(serve.status == 2 && serve.output.contains("no policy"), "serve refuses alike: \(serve.output)")
        }
        let config = try write("policies: \(Self.shipped)\n", "collector.yaml")
        let configured = try runProcess(ServeTests.portwarden, ["policy", "check", "--config", config], in: scratch)
        #expect(configured.status == 0 && configured.output.hasPrefix(Self.shipped + ": ok"), "\(configured.output)")

        let one = try write("rules:\n  - id: only\n    why: y\n    severity: high\n    when: port 557\n", "one/rules.yaml")
        try Data("waivers:\n  - rule: only\n    host: web-01\n    port: 557\n    owner: a@example.com\n    reason: r\n    expires: 2099-01-01\n".utf8)
            .write(to: URL(fileURLWithPath: scratch + "/one/waivers.yaml"))
        let counts = try portwarden(["policy", "check", "--policies", (one as NSString).deletingLastPathComponent])
        #expect(counts.output.contains("1 rule, ") && counts.output.contains("1 waiver, ") && counts.output.contains("0 inventory entries"),
                "\(counts.output)")
    }

    @Test func evalPrintsASnapshotsFindingsAsJSON() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var writer = JSONWriter()
        writer.value(Self.snapshot("web-01", at: "2026-11-25T10:00:00Z", ports: [22, 557]))
        let file = try write(String(decoding: writer.buffer, as: UTF8.self), "web-01.json")
        let (status, output) = try portwarden(["policy", "eval", "--snapshot", file, "--format", "json",
                                               "--policies", Self.shipped, "--state-dir", scratch + "/state"])
        #expect(status == 0, "\(output)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(document["schema"] as? Int == 1 && document["host"] as? String == "web-01" && document["tags"] as? [String] == [],
                "\(output)")
        #expect((document["policy_version"] as? String)?.count == 64)
        let findings = try #require(document["findings"] as? [[String: Any]])
        #expect(findings.map { $0["rule"] as? String } == ["openvms-sysipc-off-openvms"])
        #expect(findings.first?["waived"] as? Bool == false)
        #expect((findings.first?["listener"] as? [String: Any])?["port"] as? Int == 557)
        #expect(try portwarden(["policy", "eval", "--policies", Self.shipped]).status == 2, "neither --snapshot nor --host")
    }

    @Test func hostsTagAndUntagDecideWhatEvalFinds() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let state = scratch + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        for host in ["web-01", "vms-01"] {
            _ = try database.ingest(Self.snapshot(host, at: "2026-11-25T10:00:00Z", ports: [557]), host: host, bodyDigest: host,
                                    receivedAt: 1)
        }
        func rules(_ host: String) throws -> [String] {
            let (status, output) = try portwarden(["policy", "eval", "--host", host, "--format", "json",
                                                   "--policies", Self.shipped, "--state-dir", state])
            try #require(status == 0, "\(output)")
            let document = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
            return try #require(document["findings"] as? [[String: Any]]).compactMap { $0["rule"] as? String }
        }
        #expect(try rules("web-01") == ["openvms-sysipc-off-openvms"])
        #expect(try rules("vms-01") == [], "the inventory tags vms-* OpenVMS")

        #expect(try portwarden(["hosts", "tag", "web-01", "OpenVMS", "--state-dir", state]).status == 0)
        #expect(try rules("web-01") == [])
        let untag = try portwarden(["hosts", "untag", "vms-01", "OpenVMS", "--state-dir", state])
        #expect(untag.status == 0 && untag.output.contains("overrides the inventory"), "\(untag.output)")
        #expect(try rules("vms-01") == ["openvms-sysipc-off-openvms"], "an explicit removal beats the inventory's glob")
        #expect(try portwarden(["hosts", "untag", "vms-01", "OpenVMS", "--follow-inventory", "--state-dir", state]).status == 0)
        #expect(try rules("vms-01") == [])
        #expect(try portwarden(["hosts", "tag", "web-01", "Open VMS", "--state-dir", state]).status == 2, "not a tag")
        let typo = try portwarden(["hosts", "tag", "web-10", "OpenVMS", "--state-dir", state])
        #expect(typo.status == 2 && typo.output.contains("no host named web-10") && typo.output.contains("--create"), "\(typo.output)")
        #expect(try portwarden(["hosts", "tag", "web-10", "OpenVMS", "--create", "--state-dir", state]).status == 0,
                "tagged before it enrolls")
        #expect(try portwarden(["hosts", "tag", "web-10", "pci", "--state-dir", state]).status == 0, "a tagged name is known")
        #expect(try portwarden(["policy", "eval", "--host", "nobody", "--policies", Self.shipped, "--state-dir", state]).status == 2)
    }

    @Test func replayPrintsWhenFindingsWouldHaveOpenedAndClosed() throws {
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let state = scratch + "/state"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        let now = Date().timeIntervalSince1970.rounded(.down)
        let opened = Date(timeIntervalSince1970: now - 2 * 86_400), closed = Date(timeIntervalSince1970: now - 86_400)
        _ = try database.ingest(Self.snapshot("web-01", at: Self.rfc3339(opened), ports: [22, 557]), host: "web-01",
                                bodyDigest: "a", receivedAt: 1)
        _ = try database.ingest(Self.snapshot("web-01", at: Self.rfc3339(closed), ports: [22]), host: "web-01",
                                bodyDigest: "b", receivedAt: 2)
        let (status, output) = try portwarden(["policy", "replay", "--policy", Self.shipped, "--since", "90d",
                                               "--format", "json", "--state-dir", state])
        #expect(status == 0, "\(output)")
        let replayed = try listingRows(output, "intervals")
        try #require(replayed.count == 1, "\(output)")
        #expect((replayed[0]["finding"] as? [String: Any])?["rule"] as? String == "openvms-sysipc-off-openvms")
        #expect(replayed[0]["opened"] as? String == Self.rfc3339(opened))
        #expect(replayed[0]["closed"] as? String == Self.rfc3339(closed))
        #expect(replayed[0]["open_at_start"] as? Bool == false)

        let table = try portwarden(["policy", "replay", "--policy", Self.shipped, "--since", "90d", "--state-dir", state])
        #expect(table.status == 0 && table.output.contains("openvms-sysipc-off-openvms"), "\(table.output)")
        #expect(try portwarden(["policy", "replay", "--since", "ninety", "--state-dir", state]).status == 2)
    }
}
