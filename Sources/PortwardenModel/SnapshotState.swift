/// What of a snapshot the collector keeps for its host, in one canonical encoding
/// (docs/wire-format.md, "The state digest"): the agent and the collector hash these bytes
/// (`stateDigest`, SHA-256) and compare, so that a report saying "the same as before" is a
/// digest rather than the listeners again. Everything a stored report can change is in
/// it — the listeners as the history keys them, their owners' identities and command
/// lines, the host's facts and labels, per-namespace completeness — and nothing that
/// changes without changing what is kept: times, sequence, boot id, pids, socket inodes,
/// process counts, warnings. Erring towards more only costs a full report.
extension Snapshot {
    /// Bumped whenever the encoding changes: an agent and a collector that encode
    /// differently never match, and the agent sends its full snapshot.
    public static let stateVersion = 1

    public func stateEncoding() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("state"); w.value(Self.stateVersion)
        w.key(Host.CodingKeys.machineID); w.value(host.machineID)
        w.key(Host.CodingKeys.kernel); w.value(host.kernel)
        w.key(Host.CodingKeys.os); w.value(host.os)
        w.key(Host.CodingKeys.labels); w.value(host.labels)
        w.key(CodingKeys.complete); w.value(complete)
        w.key(CodingKeys.ownershipComplete); w.value(ownershipComplete)
        w.key(CodingKeys.completeNamespaces)
        if let completeNamespaces { w.value(Array(Set(completeNamespaces)).sorted()) } else { w.null() }
        // Sockets that share an identity (SO_REUSEPORT) are one listener in the history.
        w.key(CodingKeys.listeners); w.beginArray()
        for listener in Set(listeners.map(\.stateEncoding)).sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            w.raw(listener)
        }
        w.endArray()
        w.endObject()
        return w.buffer
    }
}

extension Listener {
    /// This listener as the history keys it: no inode, no owner note; its owners without
    /// pids or uids (`Owner.stateEncoding`), sorted and unique.
    var stateEncoding: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key(CodingKeys.transport); w.value(transport.rawValue)
        w.key(CodingKeys.family); w.value(family.rawValue)
        w.key(CodingKeys.address); w.value(address)
        w.key(CodingKeys.port); w.value(port)
        w.key(CodingKeys.scope); w.value(scope.rawValue)
        w.key(CodingKeys.netns); w.value(netns)
        w.key(CodingKeys.hostNetns); w.value(hostNetns)
        w.key(CodingKeys.uid); w.value(uid)
        w.key(CodingKeys.foundBy); w.value(foundBy.rawValue)
        w.key(CodingKeys.processes); w.beginArray()
        for owner in Set(processes.map(\.stateEncoding)).sorted(by: { $0.lexicographicallyPrecedes($1) }) { w.raw(owner) }
        w.endArray()
        w.endObject()
        return w.buffer
    }
}

extension Owner {
    /// An owner as the history keeps it: restarting a daemon (a new pid) is no change.
    var stateEncoding: [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key(CodingKeys.name); w.value(name)
        w.key(CodingKeys.exe); w.value(exe)
        w.key(CodingKeys.cmdline); w.value(cmdline)
        w.key(CodingKeys.user); w.value(user)
        w.key(CodingKeys.unit); w.value(unit)
        w.key(CodingKeys.container); w.value(container)
        w.endObject()
        return w.buffer
    }
}
