import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// The collector's own certificate reissued while agents enrolled before keep reporting.
extension ServeTests {
    @Test func aReissuedServerCertificateKeepsEnrolledAgentsReporting() throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1", "--name", "collector.test"]).status == 0)
        try writeSecret()
        let port = try unusedPort()
        var server = try serve(port: port)
        let agentState = state + "/agent"
        try #require(try agentEnroll(port, name: "web-01", credential: state + "/agent.secret", agentState: agentState).status == 0)
        let collector = ["--collector", "127.0.0.1:\(port)", "--state-dir", agentState]
        #expect(try agent(["run", "--once"] + collector).status == 0)
        let before = try Certificate(pem: StateFile.read(state + "/server.pem"))
        #expect(before.subjectAltNames == ["127.0.0.1", "collector.test"], "\(before.subjectAltNames)")

        let reissued = try portwarden(["ca", "server-cert", "--state-dir", state])
        #expect(reissued.status == 0, "\(reissued.output)")
        let after = try Certificate(pem: StateFile.read(state + "/server.pem"))
        #expect(after.serial != before.serial && after.subjectAltNames == before.subjectAltNames)
        #expect(try PrivateKey.read(from: state + "/server.key").pem() != StateFile.read(agentState + "/host.key"))
        server.terminate()
        server.waitUntilExit()
        server = try serve(port: port)
        defer { server.terminate(); server.waitUntilExit() }
        let ran = try agent(["run", "--once"] + collector)
        #expect(ran.status == 0, "\(ran.output)")
        let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
        #expect(try database.receiptRuns(host: "web-01").map(\.reports).reduce(0, +) == 2)
        // The names can be changed too.
        let renamed = try portwarden(["ca", "server-cert", "--state-dir", state, "--name", "127.0.0.1"])
        #expect(renamed.status == 0, "\(renamed.output)")
        #expect(try Certificate(pem: StateFile.read(state + "/server.pem")).subjectAltNames == ["127.0.0.1"])
    }
}
