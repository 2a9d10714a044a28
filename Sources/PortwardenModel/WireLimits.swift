/// The bounds of a report, shared by both ends (docs/wire-format.md, "Bounds"): the agent
/// cuts what it sends to them, marking each cut; the collector refuses only what goes
/// past them. A host's processes choose their names and command lines, so no value they
/// control may be unbounded — and none may be a reason to refuse the host's report.
public enum WireLimits {
    /// One string, in UTF-8 bytes: a process's name, exe, user, unit, container, a label's
    /// key or value, a warning, an owner note, an unresolved socket's reason.
    public static let stringBytes = 4_096
    /// One owner's command line: its arguments' UTF-8 bytes with a NUL after each, as
    /// `/proc/PID/cmdline` holds them.
    public static let cmdlineBytes = 4_096
    /// Processes listed under one listener or one unresolved socket.
    public static let ownersPerListener = 256
    /// Processes listed under all listeners and unresolved sockets of one report together:
    /// 4,000 listeners held by 256 forked processes would otherwise be a million entries.
    /// Past it the agent shares the room among the sockets, privileged ones first.
    public static let ownersPerReport = 4_096
    /// Listeners in one report. Past it the agent sends in full every listener on a port
    /// below 1024 or held by uid 0, and a summary per uid of the rest.
    public static let listenersPerReport = 4_096
    /// Unresolved sockets in one report.
    public static let unresolvedPerReport = 1_024
    /// Network namespaces in one report.
    public static let namespacesPerReport = 4_096
    /// Warnings in one report.
    public static let warningsPerReport = 256
    /// Labels a host declares.
    public static let labelsPerHost = 64
    /// A whole report: bytes of JSON before gzip. The collector's `max_report_bytes`
    /// defaults to it; an agent whose report is still larger trims owners' details.
    public static let snapshotBytes = 4 << 20
    /// What a cut string ends with (and a cut command line's last argument is): the cut
    /// string, marker included, is at most its bound.
    public static let truncationMarker = "…[truncated]"
}
