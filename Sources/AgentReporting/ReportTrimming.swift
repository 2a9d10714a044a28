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
    private mutating func trim(_ stage: TrimStage, by needed: Int) -> (saved: Int, groups: Int, places: Int) {
        // A process holding many sockets is listed under each: one group, measured once.
        var groups: [Int32: (places: [OwnerPlace], saving: Int)] = [:]
        var measured: [Int32: (owner: Owner, saving: Int)] = [:]
        var sockets: [(places: [OwnerPlace], saving: Int)] = []
        for place in ownerPlaces(for: stage) {
            let target = self[place]
            guard case .owner(let owner) = target else {
                let saving = stage.saving(target)
                if saving > 0 { sockets.append(([place], saving)) }
                continue
            }
            let saving: Int
            if let known = measured[owner.pid], known.owner == owner {
                saving = known.saving
            } else {
                saving = stage.saving(target)
                measured[owner.pid] = (owner, saving)
            }
            if saving > 0 { groups[owner.pid, default: ([], 0)].places.append(place); groups[owner.pid]!.saving += saving }
        }
        let candidates = (Array(groups.values) + sockets).sorted { $0.saving > $1.saving }
        var saved = 0, taken = 0, places = 0
        for (group, saving) in candidates where saved < needed {
            for place in group { stage.apply(to: &self[place]) }
            saved += saving
            taken += 1
            places += group.count
        }
        if stage == .owners && taken > 0 { ownershipComplete = false }
        return (saved, taken, places)
    }

    private func ownerPlaces(for stage: TrimStage) -> [OwnerPlace] {
        if stage == .owners {
            return listeners.indices.map { .listener($0) } + unresolved.indices.map { .unresolved($0) }
        }
        return listeners.indices.flatMap { l in listeners[l].processes.indices.map { .owner(listener: l, $0) } }
            + unresolved.indices.flatMap { u in unresolved[u].processes.indices.map { .unresolvedOwner(socket: u, $0) } }
    }

    private subscript(place: OwnerPlace) -> TrimTarget {
        get {
            switch place {
            case .owner(let l, let o): .owner(listeners[l].processes[o])
            case .unresolvedOwner(let u, let o): .owner(unresolved[u].processes[o])
            case .listener(let l): .listener(listeners[l])
            case .unresolved(let u): .unresolved(unresolved[u])
            }
        }
        set {
            switch (place, newValue) {
            case (.owner(let l, let o), .owner(let owner)): listeners[l].processes[o] = owner
            case (.unresolvedOwner(let u, let o), .owner(let owner)): unresolved[u].processes[o] = owner
            case (.listener(let l), .listener(let listener)): listeners[l] = listener
            case (.unresolved(let u), .unresolved(let socket)): unresolved[u] = socket
            default: break
            }
        }
    }
}

private enum OwnerPlace {
    case owner(listener: Int, Int)
    case unresolvedOwner(socket: Int, Int)
    case listener(Int)
    case unresolved(Int)
}

/// What one trimming step works on: an owner, or a socket whose owners all go.
private enum TrimTarget {
    case owner(Owner)
    case listener(Listener)
    case unresolved(UnresolvedSocket)
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

    /// Bytes the stage saves on `target`.
    func saving(_ target: TrimTarget) -> Int {
        var trimmed = target
        apply(to: &trimmed)
        return wireSize(target) - wireSize(trimmed)
    }

    func apply(to target: inout TrimTarget) {
        switch (self, target) {
        case (.commandLines, .owner(var owner)):
            // The marker a cut command line ends with, alone: cut entirely.
            owner.cmdline = [WireLimits.truncationMarker]
            target = .owner(owner)
        case (.ownerDetails, .owner(var owner)):
            owner.exe = nil; owner.user = nil; owner.unit = nil; owner.container = nil
            target = .owner(owner)
        case (.owners, .listener(var listener)):
            listener.processes = []
            listener.ownerNote = Self.ownerNote
            target = .listener(listener)
        case (.owners, .unresolved(var socket)):
            socket.processes = []
            target = .unresolved(socket)
        default:
            break
        }
    }

    private func wireSize(_ target: TrimTarget) -> Int {
        var writer = JSONWriter()
        switch target {
        case .owner(let owner): writer.value(owner)
        case .listener(let listener): writer.value(listener)
        case .unresolved(let socket): writer.value(socket)
        }
        return writer.buffer.count
    }
}
