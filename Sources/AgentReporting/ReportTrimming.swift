import PortwardenModel

/// A snapshot's wire JSON made to fit a byte limit — the snapshot bound before it is
/// spooled, or the limit a collector's 413 states — by trimming owners' details, least
/// useful first: command lines (largest first), then owners' exe, user, unit and
/// container, then whole owners. What identifies a listener (protocol, address, port,
/// namespace, uid) is never trimmed: a host with one huge process still reports every
/// port it has open, and the warning it carries says what was left out.
public struct TrimmedReport: Sendable {
    public var bytes: [UInt8]
    /// The warning added to the snapshot; nil when it fitted as it was.
    public var warning: String?
    /// False when even without any owner the snapshot is over the limit.
    public var fits: Bool
}

extension Snapshot {
    /// The wire JSON at most `limit` bytes when trimming owners can make it so.
    public consuming func wire(fitting limit: Int) -> TrimmedReport {
        let (whole, original) = encoded(keepingUpTo: limit)
        if let whole { return TrimmedReport(bytes: whole, warning: nil, fits: true) }

        // Savings are exact (JSON has no lengths to update), so the estimate is what the
        // writer will produce; room is kept for the warning itself.
        let target = limit - Self.warningRoom
        var size = original
        var done: [String] = []
        for stage in TrimStage.allCases where size > target {
            let (saved, groups, places) = trim(stage, by: size - target)
            size -= saved
            if groups > 0 { done.append(stage.describe(groups, places)) }
        }
        let warning = "report trimmed from \(original) to fit a limit of \(limit) bytes: " + done.joined(separator: ", ")
        warnings = Array(warnings.prefix(WireLimits.warningsPerReport - 1)) + [warning]
        var writer = JSONWriter()
        writer.value(self)
        return TrimmedReport(bytes: writer.buffer, warning: warning, fits: writer.buffer.count <= limit)
    }

    /// The wire JSON while it is at most `limit` bytes, and its size either way. Past the
    /// limit the bytes are only counted: a report inflated to hundreds of MiB by one
    /// process is never held whole (the agent's unit allows 64 MiB).
    private func encoded(keepingUpTo limit: Int) -> (bytes: [UInt8]?, size: Int) {
        final class Kept { var bytes: [UInt8]? = []; var size = 0 }
        let kept = Kept()
        var writer = JSONWriter { chunk in
            kept.size += chunk.count
            if kept.bytes != nil, kept.size <= limit { kept.bytes! += chunk } else { kept.bytes = nil }
        }
        writer.value(self)
        writer.flush()
        return (kept.bytes, kept.size)
    }

    /// A warning is one short sentence; this is well over it.
    static let warningRoom = 512

    /// Applies `stage` where it saves most — a process's details everywhere it is listed
    /// at once — until `needed` bytes are saved or nothing is left; returns the bytes
    /// saved, and how many processes (sockets, for whole owners) and places it took.
    /// Works per process and per socket, never per owner place: what it keeps is bounded
    /// by the report's processes and sockets, however often each process is listed.
    private mutating func trim(_ stage: TrimStage, by needed: Int) -> (saved: Int, groups: Int, places: Int) {
        stage == .owners ? trimSockets(by: needed) : trimProcesses(stage, by: needed)
    }

    private mutating func trimProcesses(_ stage: TrimStage, by needed: Int) -> (saved: Int, groups: Int, places: Int) {
        // Sockets held by the same processes share one owners array (the scan makes them
        // so: 4,000 listeners of 256 forked holders are one array): each array is
        // measured once, times the sockets listing it, and trimmed once.
        var arrays: [UnsafeRawPointer: (owners: [Owner], sockets: Int)] = [:]
        func note(_ owners: [Owner]) {
            guard let key = Self.identity(owners) else { return }
            arrays[key, default: (owners, 0)].sockets += 1
        }
        for listener in listeners { note(listener.processes) }
        for socket in unresolved { note(socket.processes) }

        // A process holding many sockets is listed under each: one group, measured once
        // (again only where the same pid is listed with other details).
        var groups: [Int32: (owner: Owner, each: Int, saving: Int, places: Int)] = [:]
        for (owners, sockets) in arrays.values {
            for owner in owners {
                let each = groups[owner.pid].flatMap { $0.owner == owner ? $0.each : nil } ?? stage.saving(owner)
                groups[owner.pid, default: (owner, each, 0, 0)].saving += each * sockets
                groups[owner.pid]!.places += sockets
            }
        }
        var chosen: Set<Int32> = []
        var saved = 0, places = 0
        for (pid, group) in groups.sorted(by: { ($0.value.saving, $1.key) > ($1.value.saving, $0.key) })
        where saved < needed && group.saving > 0 {
            chosen.insert(pid)
            saved += group.saving
            places += group.places
        }
        // Each array listing a chosen process is trimmed once, and the sockets that shared
        // it share the trimmed one. `arrays` holds the originals, so no address is reused.
        var trimmed: [UnsafeRawPointer: [Owner]] = [:]
        for (key, (owners, _)) in arrays where owners.contains(where: { chosen.contains($0.pid) }) {
            var copy = owners
            for index in copy.indices where chosen.contains(copy[index].pid) { stage.apply(to: &copy[index]) }
            trimmed[key] = copy
        }
        func replace(_ owners: inout [Owner]) {
            if let key = Self.identity(owners), let replacement = trimmed[key] { owners = replacement }
        }
        for index in listeners.indices { replace(&listeners[index].processes) }
        for index in unresolved.indices { replace(&unresolved[index].processes) }
        return (saved, chosen.count, places)
    }

    /// Where an owners array's elements are stored: the same for every copy that shares
    /// them. nil for an empty array (nothing to trim).
    private static func identity(_ owners: [Owner]) -> UnsafeRawPointer? {
        owners.isEmpty ? nil : owners.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
    }

    private mutating func trimSockets(by needed: Int) -> (saved: Int, groups: Int, places: Int) {
        let candidates = (listeners.indices.map { (listener: true, index: $0, saving: TrimStage.savingOfOwners(listeners[$0])) }
            + unresolved.indices.map { (listener: false, index: $0, saving: TrimStage.savingOfOwners(unresolved[$0])) })
            .filter { $0.saving > 0 }.sorted { $0.saving > $1.saving }
        var saved = 0, taken = 0
        for candidate in candidates where saved < needed {
            if candidate.listener { TrimStage.removeOwners(&listeners[candidate.index]) }
            else { TrimStage.removeOwners(&unresolved[candidate.index]) }
            saved += candidate.saving
            taken += 1
        }
        if taken > 0 { ownershipComplete = false }
        return (saved, taken, taken)
    }
}

private enum TrimStage: CaseIterable {
    case commandLines, ownerDetails, owners

    /// What a listener whose owners were trimmed says instead.
    static let ownerNote = "owners trimmed: the report was over its byte limit"

    func describe(_ processes: Int, _ places: Int) -> String {
        func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : noun.hasSuffix("s") ? "es" : "s")" }
        return switch self {
        case .commandLines:
            "the command lines of \(count(processes, "process")) (listed under \(count(places, "socket"))) cut, largest first"
        case .ownerDetails:
            "the exe, user, unit and container of \(count(processes, "process")) (under \(count(places, "socket"))) removed"
        case .owners: "the owners of \(count(places, "socket")) removed"
        }
    }

    /// Bytes the stage saves on one listing of `owner`.
    func saving(_ owner: Owner) -> Int {
        var trimmed = owner
        apply(to: &trimmed)
        return Self.wireSize(owner) - Self.wireSize(trimmed)
    }

    func apply(to owner: inout Owner) {
        switch self {
        case .commandLines:
            // The marker a cut command line ends with, alone: cut entirely.
            owner.cmdline = [WireLimits.truncationMarker]
        case .ownerDetails:
            owner.exe = nil; owner.user = nil; owner.unit = nil; owner.container = nil
        case .owners:
            break
        }
    }

    static func removeOwners(_ listener: inout Listener) {
        listener.processes = []
        listener.ownerNote = ownerNote
    }

    static func removeOwners(_ socket: inout UnresolvedSocket) { socket.processes = [] }

    static func savingOfOwners(_ listener: Listener) -> Int {
        var trimmed = listener
        removeOwners(&trimmed)
        return wireSize(listener) - wireSize(trimmed)
    }

    static func savingOfOwners(_ socket: UnresolvedSocket) -> Int {
        var trimmed = socket
        removeOwners(&trimmed)
        return wireSize(socket) - wireSize(trimmed)
    }

    private static func wireSize(_ item: some WireEncodable) -> Int {
        var writer = JSONWriter()
        writer.value(item)
        return writer.buffer.count
    }
}
