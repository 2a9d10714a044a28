import PortwardenModel

// Public initializers, for building history outside the store (`importHistory`).

extension HostRecord {
    public init(name: String, machineID: String?, bootID: String?, kernel: String?, os: String?, firstSeen: Int64,
                lastSeen: Int64, lastReceived: Int64, lastSequence: Int64?, complete: Bool, labels: String? = nil,
                firstReceived: Int64? = nil) {
        // Without a receive time, the earliest the history can vouch for (as v9-retired takes it).
        self.init(id: nil, name: name, machineID: machineID, bootID: bootID, kernel: kernel, os: os, firstSeen: firstSeen,
                  lastSeen: lastSeen, lastReceived: lastReceived, lastSequence: lastSequence, complete: complete, labels: labels,
                  firstReceived: firstReceived ?? min(firstSeen, lastReceived))
    }
}

extension ListenerInterval {
    /// `listener`'s interval exactly as ingest would store it (identity, owners).
    public init(_ listener: Listener, opened: Int64, closed: Int64?) {
        self = Observation(listener).interval(hostId: 0, opened: opened)
        self.closed = closed
    }
}

extension ReceiptRun {
    public init(bootID: String?, firstSequence: Int64?, lastSequence: Int64?, lastBodyDigest: String, firstCollected: Int64,
                lastCollected: Int64, lastReceived: Int64, reports: Int64, firstReceived: Int64? = nil) {
        self.init(id: nil, hostId: 0, bootID: bootID, firstSequence: firstSequence, lastSequence: lastSequence,
                  lastBodyDigest: lastBodyDigest, firstCollected: firstCollected, lastCollected: lastCollected,
                  lastReceived: lastReceived, reports: reports, firstReceived: firstReceived ?? min(firstCollected, lastReceived))
    }
}

extension FindingInterval {
    /// `finding`'s interval exactly as ingest would store it (identity, owners with
    /// their command lines).
    public init(_ finding: ObservedFinding, opened: Int64, closed: Int64?) {
        self = finding.interval(hostId: 0, opened: opened)
        self.closed = closed
    }
}
