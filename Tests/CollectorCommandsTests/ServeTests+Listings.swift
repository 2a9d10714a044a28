import Foundation
import PortwardenTestSupport
import Testing

/// Every listing command: a table by default, and with --format json one object,
/// `{"schema": 1, "<rows>": [...]}`.
extension ServeTests {
    @Test func everyListingHasATableAndTheSameJSONShape() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        _ = try enroll("web-01")
        try #require(try portwarden(["hosts", "tag", "vms-01", "OpenVMS", "--create", "--state-dir", state]).status == 0)
        let snapshot = state + "/web-01.json"
        try Data(Self.report("web-01", sequence: 1)).write(to: URL(fileURLWithPath: snapshot))
        let listings: [([String], String, Set<String>)] = [
            (["hosts", "list"], "hosts", []), (["hosts", "tags"], "hosts", []), (["enroll", "pending"], "requests", []),
            (["enroll", "token", "list"], "tokens", []), (["audit"], "entries", []), (["ca", "list"], "certificates", []),
            (["policy", "eval", "--snapshot", snapshot, "--policies", Self.policies], "findings", ["host", "tags", "policy_version"]),
            (["policy", "replay", "--policy", Self.policies, "--since", "1d"], "intervals", []),
        ]
        for (command, rows, alongside) in listings {
            let table = try portwarden(command + ["--state-dir", state])
            #expect(table.status == 0, "\(command): \(table.output)")
            let json = try portwarden(command + ["--state-dir", state, "--format", "json"])
            try #require(json.status == 0, "\(command): \(json.output)")
            _ = try listingRows(json.output, rows, alongside: alongside)
        }

        let tags = try listingRows(try portwarden(["hosts", "tags", "vms-01", "--state-dir", state, "--format", "json"]).output, "hosts")
        #expect(tags.count == 1 && tags.first?["tags"] as? [String] == ["OpenVMS"] && tags.first?["added"] as? [String] == ["OpenVMS"],
                "\(tags)")
        let unknown = try portwarden(["hosts", "tags", "nosuchhost", "--state-dir", state])
        #expect(unknown.status == 2 && unknown.output.contains("nosuchhost") && unknown.output.contains("hosts list"), "\(unknown.output)")

        // During a rotation the old CA is listed with the hosts that have not renewed onto the new one.
        try #require(try portwarden(["ca", "rotate", "--state-dir", state]).status == 0)
        let certificates = try listingRows(try portwarden(["ca", "list", "--state-dir", state, "--format", "json"]).output, "certificates")
        #expect(certificates.map { $0["role"] as? String } == ["ca", "ca-old", "server"], "\(certificates)")
        #expect(certificates[1]["not_renewed"] as? [String] == ["web-01"], "\(certificates)")
        #expect(certificates.allSatisfy { ($0["sha256"] as? String)?.count == 64 && $0["not_after"] is String }, "\(certificates)")
    }
}
