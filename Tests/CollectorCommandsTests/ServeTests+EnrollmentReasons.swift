import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import Testing

/// What an operator reads while answering enrollments against `portwarden serve`: why each
/// request waits, requests another key's certificate left behind, and refusals in the audit.
extension ServeTests {
    func pendingRows() throws -> [[String: String]] { try jsonRows(["enroll", "pending"]) }

    @Test func pendingSaysWhyEachNameWaitsAndIssuingSupersedesTheRest() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (server, port, secret) = try caSecretAndServe()
        defer { server.terminate(); server.waitUntilExit() }
        let host = try PrivateKey.generate(), reinstall = try PrivateKey.generate()
        guard case (.success(.issued), let hostKey) = try attackerEnroll(port, "a-1", secret: secret, key: host) else {
            Issue.record("a-1 was not issued")
            return
        }
        // The host runs enroll again with its own key; a reinstall asks with a new one.
        _ = try attackerEnroll(port, "a-1", secret: secret, key: host)
        let (_, reinstallKey) = try attackerEnroll(port, "a-1", secret: secret, key: reinstall)
        var rows = try pendingRows()
        let why = Dictionary(uniqueKeysWithValues: rows.map { ($0["fingerprint"] ?? "", $0["why"] ?? "") })
        #expect(why[hostKey]?.hasPrefix("this key already holds the name's current certificate (serial ") == true, "\(rows)")
        #expect(why[reinstallKey]?.hasPrefix("the name's certificate is valid until ") == true, "\(rows)")
        #expect(why[reinstallKey]?.hasSuffix("held by another key") == true, "\(rows)")

        // The reinstall is approved and collects: the host's own request is superseded.
        #expect(try portwarden(["enroll", "approve", "a-1", "--fingerprint", reinstallKey, "--state-dir", state]).status == 0)
        guard case (.success(.issued), _) = try attackerEnroll(port, "a-1", secret: secret, key: reinstall) else {
            Issue.record("the approved key was not issued")
            return
        }
        rows = try pendingRows()
        #expect(rows.map { $0["fingerprint"] ?? "" } == [hostKey] && rows.first?["state"] == "superseded", "\(rows)")
        let serial = try #require(rows.first?["superseded_by"])
        let table = try portwarden(["enroll", "pending", "--state-dir", state]).output
        #expect(table.contains("superseded by serial \(serial)"), "\(table)")
        let stale = try portwarden(["enroll", "approve", "a-1", "--fingerprint", hostKey, "--state-dir", state])
        #expect(stale.status == 2 && stale.output.contains("superseded") && stale.output.contains("ask again"), "\(stale.output)")
        guard case (.success(.pending), _) = try attackerEnroll(port, "a-1", secret: secret, key: host) else {
            Issue.record("the superseded key took the name back")
            return
        }

        // A revoked name says so.
        #expect(try portwarden(["hosts", "revoke", "a-1", "--state-dir", state]).status == 0)
        let (_, thirdKey) = try attackerEnroll(port, "a-1", secret: secret)
        let revoked = try pendingRows().first { $0["fingerprint"] == thirdKey }
        #expect(revoked?["why"]?.hasPrefix("the name's certificate was revoked at ") == true, "\(String(describing: revoked))")
    }

    @Test func refusalsNameTheHostAskedForAndADisabledSecretSaysDisabled() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        let (server, port, secret) = try caSecretAndServe()
        defer { server.terminate(); server.waitUntilExit() }
        guard case (.failure(let wrong), _) = try attackerEnroll(port, "D-1.", secret: "guess") else {
            Issue.record("a wrong secret enrolled")
            return
        }
        #expect(wrong.status == 403)
        let disabled = try portwarden(["enroll", "secret", "--disable", "--state-dir", state])
        #expect(disabled.status == 0, "\(disabled.output)")
        guard case (.failure(let refused), _) = try attackerEnroll(port, "c-1", secret: secret) else {
            Issue.record("a disabled secret enrolled")
            return
        }
        #expect(refused.status == 403 && refused.message.contains("enrollment by secret was disabled at"), "\(refused)")
        #expect(refused.message.contains("token") && !refused.message.contains("replaced"), "\(refused)")

        let refusals = try auditActions().filter { $0["action"] == "enroll.refused" }
        #expect(refusals.map { $0["host"] ?? "-" } == ["d-1", "c-1"], "\(refusals)")
        #expect(refusals.last?["detail"]?.contains("a disabled enrollment secret") == true, "\(refusals)")
        #expect(server.isRunning)
    }
}
