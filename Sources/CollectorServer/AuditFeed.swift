import CollectorStore
import Foundation
import Logging

/// What operators' commands did — `enroll approve` and `refuse`, `hosts revoke`, `hosts
/// retire`, `enroll sign`, tokens, secrets, the CA — reaches the collector's log here.
/// Those commands run in processes of their own (an operator's shell, a cron job), so the
/// one log that ops collects learns of them from the audit they write: each entry once, as
/// an event named after its action (`certificate.revoked` → `certificate_revoked`; an answer to a
/// waiting enrollment → `enrollment_approved`, `enrollment_refused`) with
/// host=, by= and reason= fields. What serve does itself (enrollments, renewals) it logs as
/// it does it, and is left out here.
public struct AuditFeed: Sendable {
    public let database: any HistoryStore
    public let logger: Logger

    /// Entries serve logs when it writes them.
    static let loggedWhereDone: Set<AuditAction> = [
        .enrollIssued, .enrollPending, .enrollRefused, .certificateRenewed, .renewalRefused, .requestSuperseded,
    ]

    public init(database: any HistoryStore, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Where the feed has read to: entries at or after `at` with an id above `id` are new.
    public struct Position: Sendable {
        var at: Int64
        var id: Int64 = 0
        public init(at: Int64) { self.at = at }
    }

    /// Logs the entries written since `position`, and moves it past them (without
    /// logging them when `logging` is false: at start, what was there already).
    public func tick(_ position: inout Position, logging: Bool = true) {
        let entries: [AuditEntry]
        do {
            entries = try database.auditEntries(since: position.at)
        } catch {
            logger.error("could not read the audit for operators' actions (tried again shortly): \(error)",
                         metadata: ["event": "audit_unreadable", "reason": "\(error)"])
            return
        }
        for entry in entries {
            guard let id = entry.id, id > position.id else { continue }
            position.id = id
            position.at = max(position.at, entry.at)
            guard logging, !Self.loggedWhereDone.contains(entry.action) else { continue }
            logger.notice("\(entry.action.rawValue)\(entry.host.map { " \($0)" } ?? "") by \(entry.actor)", metadata: Self.fields(entry))
        }
    }

    /// An operator's answer to a waiting enrollment, named as the collector's own answers are.
    static let renamed: [AuditAction: String] = [.requestApproved: "enrollment_approved", .requestRefused: "enrollment_refused"]

    static func fields(_ entry: AuditEntry) -> Logger.Metadata {
        let event = renamed[entry.action] ?? entry.action.rawValue.replacing(".", with: "_")
        var fields: Logger.Metadata = ["event": "\(event)", "by": "\(entry.actor)"]
        if let host = entry.host { fields["host"] = "\(host)" }
        if !entry.detail.isEmpty { fields["reason"] = "\(entry.detail)" }
        if let address = entry.address { fields["address"] = "\(address)" }
        return fields
    }

    /// Until cancelled: a look every `interval`, at what was written after it started.
    public func run(every interval: Duration = .seconds(2)) async {
        var position = Position(at: Int64(Date().timeIntervalSince1970))
        tick(&position, logging: false)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            tick(&position)
        }
    }
}
