import PortwardenModel

/// One report: number the snapshot, spool it, then deliver everything waiting, oldest
/// first. Nothing is sent that was not first on disk, so a crash or an absent collector
/// loses nothing but what a full spool had to drop — and the next report says so.
public struct Reporter: Sendable {
    public let state: AgentState
    public let delivery: Delivery
    /// The name in this host's certificate: the collector knows the host by it, whatever
    /// the kernel's hostname says now (nil: leave the scanned name).
    public let hostName: String?

    public init(state: AgentState, delivery: Delivery, hostName: String? = nil) {
        self.state = state
        self.delivery = delivery
        self.hostName = hostName
    }

    public func report(_ scanned: consuming Snapshot) throws -> Delivery.Result {
        try spool(scanned)
        return delivery.run()
    }

    /// Numbers the snapshot and spools it, trimmed to `WireLimits.snapshotBytes` (the
    /// warning in it says what went): a report the collector would refuse for its size
    /// must not wait in the spool. Returns that warning when it was trimmed.
    @discardableResult
    public func spool(_ scanned: consuming Snapshot) throws -> String? {
        var snapshot = scanned
        if let hostName { snapshot.host.hostname = hostName }
        let sequence = try state.nextSequence()
        snapshot.sequence = sequence
        let dropped = try delivery.spool.takeDrops()
        if dropped > 0 {
            snapshot.warnings.append("\(dropped) earlier snapshots were dropped from a full spool while the collector was unreachable")
        }
        let report = snapshot.wire(fitting: WireLimits.snapshotBytes)
        try delivery.spool.add(report.bytes, sequence: sequence)
        return report.warning
    }
}
