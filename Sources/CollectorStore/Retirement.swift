/// What `hosts forget` did, for the operator to read.
public struct Retirement: Equatable, Sendable {
    public var host: String
    public var at: Int64
    /// The certificates it revoked (those still unrevoked).
    public var revokedSerials: [String]
    public var listenersClosed: Int
    public var findingsClosed: Int
    /// Whether the host had a record (it had reported): only such a host is marked retired.
    public var hadReported: Bool
    /// It was retired before (`at` is then that first retirement, kept with its reason);
    /// only certificates issued since were revoked.
    public var alreadyRetired = false
}

extension Retirement {
    /// What retiring `host` at `now` did, its record as it was before (nil: it never
    /// reported): a host retired before keeps its first retirement's time.
    init(host: String, at now: Int64, record: HostRecord?, revokedSerials: [String], listenersClosed: Int, findingsClosed: Int) {
        self.init(host: host, at: record?.retiredAt ?? now, revokedSerials: revokedSerials, listenersClosed: listenersClosed,
                  findingsClosed: findingsClosed, hadReported: record != nil, alreadyRetired: record?.retiredAt != nil)
    }

    /// The reason as the host's record keeps it: bounded as audit text is.
    static func storedReason(_ reason: String) -> String { AuditText.clean(reason) }

    /// The audit of this retirement at `now` (for a host retired before too) by `actor`,
    /// in order: the certificates it revoked (when any), then the retirement.
    func auditEntries(at now: Int64, by actor: String, reason: String?) -> [AuditEntry] {
        var entries: [AuditEntry] = []
        if !revokedSerials.isEmpty {
            entries.append(AuditEntry(at: now, action: .certificateRevoked, actor: actor, host: host,
                                      detail: "serial \(revokedSerials.joined(separator: ", ")) (host retired)"))
        }
        var detail = "\(revokedSerials.count) certificate(s) revoked, \(listenersClosed) listener and \(findingsClosed) "
            + "finding interval(s) closed as retired"
        if let reason { detail += "; reason: \(reason)" }
        entries.append(AuditEntry(at: now, action: .hostRetired, actor: actor, host: host, detail: detail))
        return entries
    }
}
