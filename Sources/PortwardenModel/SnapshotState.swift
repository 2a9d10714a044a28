import Glibc

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
        // Every listener encoded once into one buffer, then placed in byte order: the
        // collector does this for every full report, on its event loop.
        var parts = JSONWriter(), owners = JSONWriter()
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(listeners.count)
        for listener in listeners {
            let start = parts.buffer.count
            listener.writeState(to: &parts, owners: &owners)
            parts.endPart()
            ranges.append(start..<parts.buffer.count)
        }
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
        for range in ByteRanges.sortedUnique(ranges, in: parts.buffer) { w.raw(Array(parts.buffer[range])) }
        w.endArray()
        w.endObject()
        return w.buffer
    }
}

extension Listener {
    /// This listener as the history keys it: no inode, no owner note; its owners without
    /// pids or uids (`Owner.writeState`), in byte order, each once. `owners` is scratch.
    func writeState(to w: inout JSONWriter, owners: inout JSONWriter) {
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
        if processes.count == 1 {
            processes[0].writeState(to: &w)
        } else if !processes.isEmpty {
            owners = JSONWriter()
            var ranges: [Range<Int>] = []
            for owner in processes {
                let start = owners.buffer.count
                owner.writeState(to: &owners)
                owners.endPart()
                ranges.append(start..<owners.buffer.count)
            }
            for range in ByteRanges.sortedUnique(ranges, in: owners.buffer) { w.raw(Array(owners.buffer[range])) }
        }
        w.endArray()
        w.endObject()
    }
}

extension Owner {
    /// An owner as the history keeps it: restarting a daemon (a new pid) is no change.
    func writeState(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.name); w.value(name)
        w.key(CodingKeys.exe); w.value(exe)
        w.key(CodingKeys.cmdline); w.value(cmdline)
        w.key(CodingKeys.user); w.value(user)
        w.key(CodingKeys.unit); w.value(unit)
        w.key(CodingKeys.container); w.value(container)
        w.endObject()
    }
}

/// Encoded values as ranges of one buffer, put in byte order without copying them.
enum ByteRanges {
    /// `ranges` of `bytes` sorted by their bytes (memcmp, then length), equal ones once.
    static func sortedUnique(_ ranges: [Range<Int>], in bytes: [UInt8]) -> [Range<Int>] {
        guard ranges.count > 1 else { return ranges }
        return bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            func order(_ a: Range<Int>, _ b: Range<Int>) -> Int32 {
                let common = memcmp(base + a.lowerBound, base + b.lowerBound, min(a.count, b.count))
                return common != 0 ? common : Int32(a.count - b.count).signum()
            }
            var unique: [Range<Int>] = []
            unique.reserveCapacity(ranges.count)
            for range in ranges.sorted(by: { order($0, $1) < 0 }) where unique.last.map({ order($0, range) != 0 }) ?? true {
                unique.append(range)
            }
            return unique
        }
    }
}
