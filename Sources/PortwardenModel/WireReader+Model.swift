// Each model type reads itself key by key, the mirror of its `write(to:)`; key names come
// from the same CodingKeys, so the two directions cannot drift apart. Every number is read
// within its range and every list and string within its bound (`WireLimits`), so a report
// that decodes is one the collector can store without another check: numbers it keeps as
// Int64 fit, addresses parse, scope and family are the collector's own reading of them.

/// Numbers the store keeps as SQLite's Int64 (sequence, inodes).
let storableUInt64: ClosedRange<UInt64> = 0...UInt64(Int64.max)

extension Snapshot: WireDecodable {
    /// Reads a report body.
    public init(wire bytes: [UInt8]) throws(WireError) { self = try WireReader.decode(Snapshot.self, from: bytes) }

    public init(wire r: inout WireReader) throws(WireError) {
        r.maxStringBytes = WireLimits.stringBytes  // a report: every string in it is bounded
        var schema: Int?, host: Host?, sequence: UInt64?, collectedAt: String?, complete: Bool?, ownershipComplete: Bool?
        var warnings: [String]?, namespaces: [NetworkNamespace]?, listeners: [Listener]?, unresolved: [UnresolvedSocket]?
        var truncatedListeners: [ListenerSummary]?, completeNamespaces: [UInt64]?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.schema.rawValue: schema = try r.int()
            case CodingKeys.host.rawValue: host = try Host(wire: &r)
            case CodingKeys.sequence.rawValue: sequence = try r.optionalInt(in: storableUInt64)
            case CodingKeys.collectedAt.rawValue: collectedAt = try r.string()
            case CodingKeys.complete.rawValue: complete = try r.bool()
            case CodingKeys.ownershipComplete.rawValue: ownershipComplete = try r.bool()
            case CodingKeys.completeNamespaces.rawValue:
                // Inodes as a listener's `netns` holds them, at most one per namespace a report may list.
                completeNamespaces = r.null() ? nil : try r.array(atMost: WireLimits.namespacesPerReport,
                                                                  "namespaces read in full in one report") {
                    (r: inout WireReader) throws(WireError) in try r.int(in: storableUInt64)
                }
            case CodingKeys.warnings.rawValue:
                warnings = try r.strings(atMost: WireLimits.warningsPerReport, "warnings in one report")
            case CodingKeys.namespaces.rawValue:
                namespaces = try r.array(of: NetworkNamespace.self, atMost: WireLimits.namespacesPerReport, "namespaces in one report")
            case CodingKeys.listeners.rawValue:
                listeners = try r.array(of: Listener.self, atMost: WireLimits.listenersPerReport, "listeners in one report")
            case CodingKeys.unresolved.rawValue:
                unresolved = try r.array(of: UnresolvedSocket.self, atMost: WireLimits.unresolvedPerReport,
                                         "unresolved sockets in one report")
            case CodingKeys.truncatedListeners.rawValue:
                // Itemised per uid, at most one entry for each listener a report may carry.
                truncatedListeners = r.null() ? nil : try r.array(of: ListenerSummary.self, atMost: WireLimits.listenersPerReport,
                                                                  "uids summarised in one report")
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
                  ownershipComplete: ownershipComplete, completeNamespaces: completeNamespaces, warnings: warnings, namespaces: namespaces,
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
            case CodingKeys.labels.rawValue: labels = try r.optionalStringMapping(atMost: WireLimits.labelsPerHost, "labels")
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
            case CodingKeys.inode.rawValue: inode = try r.int(in: storableUInt64)
            case CodingKeys.host.rawValue: host = try r.bool()
            case CodingKeys.processes.rawValue: processes = try r.int(in: 0...Int.max)
            case CodingKeys.tablesFrom.rawValue: tablesFrom = try r.optionalInt(in: 1...Int32.max)
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
        var transport: Transport?, family: AddressFamily?, address: IPAddress?, port: UInt16?, scope: ExposureScope?
        var netns: UInt64?, hostNetns: Bool?, inode: UInt64?, uid: UInt32?, processes: [Owner]?, ownerNote: String?
        var foundBy: Discovery?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.transport.rawValue: transport = try r.value(Transport.self)
            case CodingKeys.family.rawValue: family = try r.value(AddressFamily.self)
            case CodingKeys.address.rawValue:
                let start = r.offset()
                let text = try r.string()
                guard let parsed = IPAddress(text) else {
                    throw r.error("\"\(text)\" is not an IPv4 or IPv6 address", at: start)
                }
                address = parsed
            case CodingKeys.port.rawValue: port = try r.int()
            case CodingKeys.scope.rawValue: scope = try r.value(ExposureScope.self)
            case CodingKeys.netns.rawValue: netns = try r.int(in: storableUInt64)
            case CodingKeys.hostNetns.rawValue: hostNetns = try r.bool()
            case CodingKeys.inode.rawValue: inode = try r.int(in: storableUInt64)
            case CodingKeys.uid.rawValue: uid = try r.int()
            case CodingKeys.processes.rawValue:
                processes = try r.array(of: Owner.self, atMost: WireLimits.ownersPerListener, "processes holding one socket")
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
        // Family and scope are what the address says, whatever the sender claims; the
        // canonical text is kept, so one address is one listener identity.
        let text = address.description
        func named() -> String {
            "the listener \(SocketText.proto(transport.rawValue, ipv6: family == .ipv6)) "
                + SocketText.endpoint(text, port, ipv6: address.isV6)
        }
        guard family == address.family else {
            throw r.error("\(named()) says family \(family.rawValue); its address is \(address.family.rawValue)")
        }
        let computed = ExposureScope(boundTo: address)
        guard scope == computed else {
            throw r.error("\(named()) says scope \(scope.rawValue); bound to \(text) it is \(computed.rawValue)")
        }
        self.init(transport: transport, family: family, address: text, port: port, scope: scope, netns: netns,
                  hostNetns: hostNetns, inode: inode, uid: uid, processes: processes, ownerNote: ownerNote, foundBy: foundBy)
    }
}

extension Owner: WireDecodable {
    public init(wire r: inout WireReader) throws(WireError) {
        var pid: Int32?, name: String?, exe: String?, cmdline: [String]?, uid: UInt32?, user: String?, unit: String?
        var container: String?
        try r.object { (r: inout WireReader, key: String) throws(WireError) in
            switch key {
            case CodingKeys.pid.rawValue: pid = try r.int(in: 1...Int32.max)
            case CodingKeys.name.rawValue: name = try r.string()
            case CodingKeys.exe.rawValue: exe = try r.optionalString()
            case CodingKeys.cmdline.rawValue: cmdline = try r.cmdline()
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
            case CodingKeys.inode.rawValue: inode = try r.int(in: storableUInt64)
            case CodingKeys.kind.rawValue: kind = try r.optionalString()
            case CodingKeys.processes.rawValue:
                processes = try r.array(of: Owner.self, atMost: WireLimits.ownersPerListener, "processes holding one socket")
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

extension WireReader {
    /// An owner's command line, at most `WireLimits.cmdlineBytes` counted as
    /// /proc/PID/cmdline holds it: each argument's bytes and a NUL.
    mutating func cmdline() throws(WireError) -> [String] {
        var bytes = 0
        return try array { (r: inout WireReader) throws(WireError) in
            let start = r.offset()
            let argument = try r.string()
            bytes += argument.utf8.count + 1
            guard bytes <= WireLimits.cmdlineBytes else {
                throw r.error("a command line of more than \(WireLimits.cmdlineBytes) bytes (arguments and a NUL after each)",
                              at: start)
            }
            return argument
        }
    }
}
