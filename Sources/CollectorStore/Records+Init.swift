// Public initializers, for building history outside the store (`importHistory`).

extension HostRecord {
    public init(name: String, machineID: String?, bootID: String?, kernel: String?, os: String?, firstSeen: Int64,
                lastSeen: Int64, lastReceived: Int64, lastSequence: Int64?, complete: Bool, labels: String? = nil) {
        self.init(id: nil, name: name, machineID: machineID, bootID: bootID, kernel: kernel, os: os, firstSeen: firstSeen,
                  lastSeen: lastSeen, lastReceived: lastReceived, lastSequence: lastSequence, complete: complete, labels: labels)
    }
}

extension ListenerInterval {
    public init(identity: String, netns: Int64, hostNetns: Bool, protocol: String, family: String, address: String, port: Int,
                scope: String, owners: String, opened: Int64, closed: Int64?, uid: Int64? = 0, foundBy: String? = "procfs") {
        self.init(id: nil, hostId: 0, identity: identity, netns: netns, hostNetns: hostNetns, protocol: `protocol`, family: family,
                  address: address, port: port, scope: scope, owners: owners, opened: opened, closed: closed, uid: uid,
                  foundBy: foundBy)
    }
}

extension ReceiptRun {
    public init(bootID: String?, firstSequence: Int64?, lastSequence: Int64?, lastBodyDigest: String, firstCollected: Int64,
                lastCollected: Int64, lastReceived: Int64, reports: Int64) {
        self.init(id: nil, hostId: 0, bootID: bootID, firstSequence: firstSequence, lastSequence: lastSequence,
                  lastBodyDigest: lastBodyDigest, firstCollected: firstCollected, lastCollected: lastCollected,
                  lastReceived: lastReceived, reports: reports)
    }
}

extension FindingInterval {
    public init(identity: String, rule: String, severity: String, netns: Int64, protocol: String, family: String, address: String,
                port: Int, owners: String, waived: Bool, waiver: String?, policyVersion: String, opened: Int64, closed: Int64?) {
        self.init(id: nil, hostId: 0, identity: identity, rule: rule, severity: severity, netns: netns, protocol: `protocol`,
                  family: family, address: address, port: port, owners: owners, waived: waived, waiver: waiver,
                  policyVersion: policyVersion, opened: opened, closed: closed)
    }
}
