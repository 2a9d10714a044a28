import AgentReporting
import CollectorClient
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

/// An enrolled agent reporting to the collector on `port` through its real reporting path
/// (spool, delivery), on a clock the test moves: each 503's Retry-After is waited out by
/// moving it, not by sleeping. The caller calls `remove()`.
public struct ReportingAgent: Sendable {
    public let state: AgentState
    public let connection: CollectorConnection
    public let clock = ManualClock()
    public let reporter: Reporter

    public init(_ pki: TestPKI, host: String, port: Int, timeout: Int = 10) throws {
        state = try enrolledState(pki, host: host)
        connection = CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try state.clientContext(), timeout: timeout)
        let clock = clock
        reporter = Reporter(state: state, delivery: Delivery(spool: Spool(directory: state.spoolDirectory), connection: connection,
                                                             now: { clock.now }))
    }

    public func remove() { try? FileManager.default.removeItem(atPath: state.directory) }
}
