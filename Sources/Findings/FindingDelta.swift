import CollectorStore

/// The one rule for opening and resolving findings, for the store's intervals (ingest,
/// re-evaluation) and for a replay's alike: a finding produced and not open opens; an
/// open one not produced again is resolved — but only by an evaluation that could have
/// seen its listener (`Completeness`: the whole host, or the listener's namespace read in
/// full), since an incomplete snapshot may have missed it.
public enum FindingDelta {
    /// `open` keys the open findings by identity (to a stored interval, or a replay's
    /// index); `netns` gives the namespace of an open one's listener. Findings to open in
    /// identity order, each identity once; keys to resolve in identity order.
    public static func between<Key>(produced: [ObservedFinding], open: [String: Key], netns: (Key) -> UInt64,
                                    complete: Completeness) -> (open: [ObservedFinding], resolve: [Key]) {
        var byIdentity: [String: ObservedFinding] = [:]
        for finding in produced where byIdentity[finding.identity] == nil { byIdentity[finding.identity] = finding }
        let opening = byIdentity.filter { open[$0.key] == nil }.sorted { $0.key < $1.key }.map(\.value)
        let resolving = open.filter { identity, key in
            byIdentity[identity] == nil && (complete.everywhere || complete.covers(netns: netns(key)))
        }.sorted { $0.key < $1.key }.map(\.value)
        return (opening, resolving)
    }

    /// The store's open findings: what to open, and the interval ids to resolve.
    public static func between(produced: [ObservedFinding], open: [String: OpenFinding], complete: Completeness)
        -> (open: [ObservedFinding], resolve: [Int64]) {
        let (opening, resolving) = between(produced: produced, open: open, netns: \.netns, complete: complete)
        return (opening, resolving.map(\.id))
    }
}
