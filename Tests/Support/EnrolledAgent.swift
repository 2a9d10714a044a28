import AgentReporting
import Foundation
import StateFiles

/// An agent's state in a fresh directory, enrolled as `host` by `pki`'s CA: for the tests
/// that run the agent's reporting path against a real collector. The caller removes
/// `state.directory`.
public func enrolledState(_ pki: TestPKI, host: String) throws -> AgentState {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pw-agent-state-\(UUID().uuidString)").path
    let state = AgentState(directory: dir, sequenceFloor: { 0 })  // numbered 1, 2, 3… as the assertions read
    try state.prepare()
    let (certificate, key) = try pki.host(host)
    try key.write(to: state.keyPath)
    try StateFile.write(try certificate.pem(), to: state.certificatePath, mode: 0o644)
    try StateFile.write(try pki.ca.certificate.pem(), to: state.caPath, mode: 0o644)
    return state
}
