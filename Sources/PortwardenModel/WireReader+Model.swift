// Each model type reads itself key by key, the mirror of its `write(to:)`; key names come
// from the same CodingKeys, so the two directions cannot drift apart.

extension Snapshot: WireDecodable {
    /// Reads a report body.
    public init(wire bytes: [UInt8]) throws(WireError) { self = try WireReader.decode(Snapshot.self, from: bytes) }

    public init(wire r: inout WireReader) throws(WireError) {
        var schema: Int?, host: Host?, sequence: UInt64?, collectedAt: String?, complete: Bool?, ownershipComplete: Bool?
        var warnings: [String]?, namespaces: [NetworkNamespace]?, listeners: [Listener]?, unresolved: [UnresolvedSocket]?
        var truncatedListeners: [ListenerSummary]?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.schema.rawValue: schema = try r.int()
            case CodingKeys.host.rawValue: host = try Host(wire: &r)
            case CodingKeys.sequence.rawValue: sequence = try r.optionalInt()
            case CodingKeys.collectedAt.rawValue: collectedAt = try r.string()
            case CodingKeys.complete.rawValue: complete = try r.bool()
            case CodingKeys.ownershipComplete.rawValue: ownershipComplete = try r.bool()
            case CodingKeys.warnings.rawValue: warnings = try r.strings()
            case CodingKeys.namespaces.rawValue: namespaces = try r.array(of: NetworkNamespace.self)
            case CodingKeys.listeners.rawValue: listeners = try r.array(of: Listener.self)
            case CodingKeys.unresolved.rawValue: unresolved = try r.array(of: UnresolvedSocket.self)
            case CodingKeys.truncatedListeners.rawValue: truncatedListeners = r.null() ? nil : try r.array(of: ListenerSummary.self)
            default: try r.skip()
            }
        }
        guard let schema else { throw r.missing(CodingKeys.schema) }
        guard let host else { throw r.missing(CodingKeys.host) }
        guard let collectedAt else { throw r.missing(CodingKeys.collectedAt) }
        guard let complete else { throw r.missing(CodingKeys.complete) }
        guard let ownershipComplete else { throw r.missing(CodingKeys.ownershipComplete) }
        guard let warnings else { throw r.missing(CodingKeys.warnings) }
        guard let namespaces else { throw r.missing(CodingKeys.namespaces) }
        guard let listeners else { throw r.missing(CodingKeys.listeners) }
        guard let unresolved else { throw r.missing(CodingKeys.unresolved) }
        self.init(schema: schema, host: host, sequence: sequence, collectedAt: collectedAt, complete: complete,
                  ownershipComplete: ownershipComplete, warnings: warnings, namespaces: namespaces,
                  listeners: listeners, truncatedListeners: truncatedListeners, unresolved: unresolved)
    }
}

extension Host: WireDecodable {
    public init(wire r: inout WireReader) throws(WireError) {
        var hostname: String?, machineID: String?, bootID: String?, kernel: String?, os: String?
        var labels: [String: String]?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.hostname.rawValue: hostname = try r.string()
            case CodingKeys.machineID.rawValue: machineID = try r.optionalString()
            case CodingKeys.bootID.rawValue: bootID = try r.optionalString()
            case CodingKeys.kernel.rawValue: kernel = try r.optionalString()
            case CodingKeys.os.rawValue: os = try r.optionalString()
            case CodingKeys.labels.rawValue: labels = try r.optionalStringMapping()
            default: try r.skip()
            }
        }
        guard let hostname else { throw r.missing(CodingKeys.hostname) }
        self.init(hostname: hostname, machineID: machineID, bootID: bootID, kernel: kernel, os: os, labels: labels)
    }
}

extension NetworkNamespace: WireDecodable {
    public init(wire r: inout WireReader) throws(WireError) {
        var inode: UInt64?, host: Bool?, processes: Int?, tablesFrom: Int32?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.inode.rawValue: inode = try r.int()
            case CodingKeys.host.rawValue: host = try r.bool()
            case CodingKeys.processes.rawValue: processes = try r.int()
            case CodingKeys.tablesFrom.rawValue: tablesFrom = try r.optionalInt()
            default: try r.skip()
            }
        }
        guard let inode else { throw r.missing(CodingKeys.inode) }
        guard let host else { throw r.missing(CodingKeys.host) }
        guard let processes else { throw r.missing(CodingKeys.processes) }
        self.init(inode: inode, host: host, processes: processes, tablesFrom: tablesFrom)
    }
}

extension Listener: WireDecodable {
    public init(wire r: inout WireReader) throws(WireError) {
        var transport: Transport?, family: AddressFamily?, address: String?, port: UInt16?, scope: ExposureScope?
        var netns: UInt64?, hostNetns: Bool?, inode: UInt64?, uid: UInt32?, processes: [Owner]?, ownerNote: String?
        var foundBy: Discovery?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.transport.rawValue: transport = try r.value(Transport.self)
            case CodingKeys.family.rawValue: family = try r.value(AddressFamily.self)
            case CodingKeys.address.rawValue: address = try r.string()
            case CodingKeys.port.rawValue: port = try r.int()
            case CodingKeys.scope.rawValue: scope = try r.value(ExposureScope.self)
            case CodingKeys.netns.rawValue: netns = try r.int()
            case CodingKeys.hostNetns.rawValue: hostNetns = try r.bool()
            case CodingKeys.inode.rawValue: inode = try r.int()
            case CodingKeys.uid.rawValue: uid = try r.int()
            case CodingKeys.processes.rawValue: processes = try r.array(of: Owner.self)
            case CodingKeys.ownerNote.rawValue: ownerNote = try r.optionalString()
            case CodingKeys.foundBy.rawValue: foundBy = try r.value(Discovery.self)
            default: try r.skip()
            }
        }
        guard let transport else { throw r.missing(CodingKeys.transport) }
        guard let family else { throw r.missing(CodingKeys.family) }
        guard let address else { throw r.missing(CodingKeys.address) }
        guard let port else { throw r.missing(CodingKeys.port) }
        guard let scope else { throw r.missing(CodingKeys.scope) }
        guard let netns else { throw r.missing(CodingKeys.netns) }
        guard let hostNetns else { throw r.missing(CodingKeys.hostNetns) }
        guard let inode else { throw r.missing(CodingKeys.inode) }
        guard let uid else { throw r.missing(CodingKeys.uid) }
        guard let processes else { throw r.missing(CodingKeys.processes) }
        guard let foundBy else { throw r.missing(CodingKeys.foundBy) }
        self.init(transport: transport, family: family, address: address, port: port, scope: scope, netns: netns,
                  hostNetns: hostNetns, inode: inode, uid: uid, processes: processes, ownerNote: ownerNote, foundBy: foundBy)
    }
}

extension Owner: WireDecodable {
    public init(wire r: inout WireReader) throws(WireError) {
        var pid: Int32?, name: String?, exe: String?, cmdline: [String]?, uid: UInt32?, user: String?, unit: String?
        var container: String?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.pid.rawValue: pid = try r.int()
            case CodingKeys.name.rawValue: name = try r.string()
            case CodingKeys.exe.rawValue: exe = try r.optionalString()
            case CodingKeys.cmdline.rawValue: cmdline = try r.strings()
            case CodingKeys.uid.rawValue: uid = try r.int()
            case CodingKeys.user.rawValue: user = try r.optionalString()
            case CodingKeys.unit.rawValue: unit = try r.optionalString()
            case CodingKeys.container.rawValue: container = try r.optionalString()
            default: try r.skip()
            }
        }
        guard let pid else { throw r.missing(CodingKeys.pid) }
        guard let name else { throw r.missing(CodingKeys.name) }
        guard let cmdline else { throw r.missing(CodingKeys.cmdline) }
        guard let uid else { throw r.missing(CodingKeys.uid) }
        self.init(pid: pid, name: name, exe: exe, cmdline: cmdline, uid: uid, user: user, unit: unit, container: container)
    }
}

extension UnresolvedSocket: WireDecodable {
    public init(wire r: inout WireReader) throws(WireError) {
        var inode: UInt64?, kind: String?, processes: [Owner]?, reason: String?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.inode.rawValue: inode = try r.int()
            case CodingKeys.kind.rawValue: kind = try r.optionalString()
            case CodingKeys.processes.rawValue: processes = try r.array(of: Owner.self)
            case CodingKeys.reason.rawValue: reason = try r.string()
            default: try r.skip()
            }
        }
        guard let inode else { throw r.missing(CodingKeys.inode) }
        guard let processes else { throw r.missing(CodingKeys.processes) }
        guard let reason else { throw r.missing(CodingKeys.reason) }
        self.init(inode: inode, kind: kind, processes: processes, reason: reason)
    }
}
