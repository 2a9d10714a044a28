/// The caps on open connections: in all, and from one source address (an IPv6 source
/// counts by its /64). A connection past either is closed as soon as it is accepted.
public struct ConnectionLimits: Sendable, Equatable {
    public var total: Int
    public var perAddress: Int

    public init(total: Int, perAddress: Int) {
        self.total = total
        self.perAddress = perAddress
    }

    /// For 100,000 agents reporting once a minute (the arithmetic is in README.md):
    /// ~1,700 connections a second, each open well under a second, is ~1,700 at once;
    /// the total leaves six times that for bursts, and one address — a NAT in front of
    /// thousands of hosts — may hold a tenth of it.
    public static let defaults = ConnectionLimits(total: 10_000, perAddress: 1_000)

    /// Descriptors kept free beyond those open when the listener starts: the SQLite
    /// readers GRDB opens on demand (up to 5, with their WAL files), a policy reload's
    /// files, log files, and connections accepted only to be closed at a cap.
    public static let descriptorHeadroom = 64

    /// Below this many connections `serve` refuses to start rather than run starved.
    public static let fewestUsable = 16

    /// These caps within `descriptorLimit` when `inUse` descriptors are already open:
    /// the total never exceeds what is left after the headroom, and the per-address cap
    /// is lowered in the same proportion (an address keeps its share of the total).
    /// `why` says which caps are in force and, when lowered, by what — for the log.
    public func fitted(descriptorLimit: Int, inUse: Int) -> (limits: ConnectionLimits, why: String) {
        let available = max(1, descriptorLimit - inUse - Self.descriptorHeadroom)
        var fitted = self
        fitted.perAddress = min(perAddress, total)
        var why = "connections: at most \(total) open, \(fitted.perAddress) from one address"
        guard total > available else { return (fitted, why) }
        fitted.total = available
        // The product is at most total² (both come from validated settings): no overflow.
        fitted.perAddress = max(1, min(perAddress, total) * available / total)
        why = "max_connections \(total) lowered to \(available) by the descriptor limit \(descriptorLimit) "
            + "(\(inUse) open at start, \(Self.descriptorHeadroom) kept for the database, policy reloads and logs); "
            + "max_connections_per_address \(perAddress) lowered to \(fitted.perAddress) in proportion. "
            + "Raise LimitNOFILE in the unit (or `ulimit -n`) to allow more"
        return (fitted, why)
    }
}
