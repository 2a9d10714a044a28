import PortwardenModel

/// Which of a host's listeners a report could have shown (docs/wire-format.md,
/// "Completeness"): those of every network namespace, or only those of the namespaces it
/// read in full. What a report did not show closes — its listener interval, the findings on
/// it — only where it could have shown it: elsewhere it may only have been hidden.
public struct Completeness: Equatable, Sendable, ExpressibleByBooleanLiteral {
    /// Every namespace: a complete snapshot, or an evaluation of what the history holds.
    public var everywhere: Bool
    /// The namespaces read in full, by inode (as a listener's `netns`).
    public var namespaces: Set<UInt64>

    public init(everywhere: Bool, namespaces: Set<UInt64> = []) {
        self.everywhere = everywhere
        self.namespaces = namespaces
    }

    /// `true`: every namespace; `false`: none.
    public init(booleanLiteral everywhere: Bool) { self.init(everywhere: everywhere) }

    /// What `snapshot` says of itself; one without `complete_namespaces` (an older agent)
    /// is judged by `complete` alone.
    public init(_ snapshot: Snapshot) {
        self.init(everywhere: snapshot.complete, namespaces: Set(snapshot.completeNamespaces ?? []))
    }

    /// Whether a listener in `netns` that was not shown is gone.
    public func covers(netns: UInt64) -> Bool { everywhere || namespaces.contains(netns) }
}
