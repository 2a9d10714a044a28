import PortwardenModel

/// The count bounds of `WireLimits` that the scan meets by leaving some out, and saying so.
enum ReportBounds {
    /// At most `namespacesPerReport`: the host's, those holding a listener the report
    /// carries, then the most populated; in inode order.
    static func namespaces(_ all: [NetworkNamespace], holding listeners: [Listener]) -> [NetworkNamespace] {
        let limit = WireLimits.namespacesPerReport
        guard all.count > limit else { return all }
        let used = Set(listeners.map(\.netns))
        func rank(_ n: NetworkNamespace) -> (Int, Int, Int, UInt64) {
            (n.host ? 0 : 1, used.contains(n.inode) ? 0 : 1, -n.processes, n.inode)
        }
        return all.sorted { rank($0) < rank($1) }.prefix(limit).sorted { $0.inode < $1.inode }
    }

    /// Each redacted (a warning may quote what a process wrote) and cut to `stringBytes`;
    /// at most `warningsPerReport`, the first ones (the gaps come first), the last
    /// saying how many more there were.
    static func warnings(_ all: [String], redaction: Redaction) -> [String] {
        let limit = WireLimits.warningsPerReport
        let kept = all.count > limit ? all.prefix(limit - 1) : all[...]
        var bounded = kept.map { WireLimits.cut(redaction.redact($0)) }
        if all.count > limit { bounded.append("\(all.count - kept.count) more warnings are left out: a report holds \(limit)") }
        return bounded
    }
}
