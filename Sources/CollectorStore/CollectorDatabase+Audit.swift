import Foundation
internal import GRDB
import PortwardenModel

/// What an audit entry records. A later feature adds its own with one line:
/// `extension AuditAction { public static let renewed = AuditAction("certificate.renewed") }`.
public struct AuditAction: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// A host's enrollment over the network: issued, waiting for an operator, or refused (the detail says why).
    public static let enrollIssued = AuditAction("enroll.issued")
    public static let enrollPending = AuditAction("enroll.pending")
    public static let enrollRefused = AuditAction("enroll.refused")
    /// An operator's answer to a waiting request.
    public static let requestApproved = AuditAction("request.approved")
    public static let requestRefused = AuditAction("request.refused")
    /// A waiting request left behind when another key was issued the name.
    public static let requestSuperseded = AuditAction("request.superseded")
    /// `portwarden enroll sign`.
    public static let certificateSigned = AuditAction("certificate.signed")
    public static let certificateRevoked = AuditAction("certificate.revoked")
    /// A host renewed its certificate with its current one (`POST /v1/renew`), or was refused.
    public static let certificateRenewed = AuditAction("certificate.renewed")
    public static let renewalRefused = AuditAction("certificate.renewal_refused")
    /// The fleet CA's files changed (`ca init`, `ca rotate`, `ca retire-old`, `ca server-cert`).
    public static let caInitialized = AuditAction("ca.initialized")
    public static let caRotated = AuditAction("ca.rotated")
    public static let caOldRetired = AuditAction("ca.old_retired")
    public static let serverCertificateIssued = AuditAction("ca.server_certificate")
    public static let secretRotated = AuditAction("secret.rotated")
    public static let secretDisabled = AuditAction("secret.disabled")
    public static let tokenCreated = AuditAction("token.created")
    public static let tokenRevoked = AuditAction("token.revoked")
    /// What the upgrade to normalised host names did, or left for an operator.
    public static let nameNormalized = AuditAction("name.normalized")
    public static let nameLeft = AuditAction("name.left")
}

/// One line of the audit: who did what, to which host, when, from where.
public struct AuditEntry: Codable, Equatable, Sendable {
    static let databaseTableName = "audit"
    public var id: Int64?
    public var at: Int64
    public var action: AuditAction
    /// `operator alice (uid 0)`, `secret #2`, `token #5`, `certificate SERIAL`, `collector`, `upgrade v6`.
    public var actor: String
    public var host: String?
    public var address: String?
    public var detail: String

    public init(at: Int64, action: AuditAction, actor: String, host: String? = nil, address: String? = nil,
                detail: String = "") {
        self.at = at
        self.action = action
        self.actor = AuditText.clean(actor)
        self.host = host.map(AuditText.clean)
        self.address = address
        self.detail = AuditText.clean(detail)
    }

}

extension AuditEntry: RowRecord {
    init(row: Row) throws {
        id = row["id"]
        at = row["at"]
        action = AuditAction(row["action"] as String)
        actor = row["actor"]
        host = row["host"]
        address = row["address"]
        detail = row["detail"]
    }

    /// Inserts the entry; its id is set.
    mutating func insert(_ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO audit (at, action, actor, host, address, detail) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: [at, action.rawValue, actor, host, address, detail])
        id = db.lastInsertedRowID
    }
}

/// Text that may come from a host (a name a CSR asked for) is stored as it came, cut to
/// `maxBytes` with the wire format's marker; every output escapes it (`portwarden audit`'s
/// table through TextLayout, its JSON as JSON), as for all host text.
public enum AuditText {
    public static let maxBytes = 512

    public static func clean(_ text: String) -> String { WireLimits.cut(text, to: maxBytes) }
}

extension CollectorDatabase {
    /// Writes `entry` on its own (for refusals decided before any other write).
    public func audit(_ entry: AuditEntry) throws {
        try writer.write { db in try Self.audit(entry, db) }
    }

    static func audit(_ entry: AuditEntry, _ db: Database) throws {
        var entry = entry
        try entry.insert(db)
    }

    /// The audit from `since` on, oldest first.
    public func auditEntries(since: Int64) throws -> [AuditEntry] {
        try reader.read { db in
            try AuditEntry.fetchAll(db, sql: "SELECT * FROM audit WHERE at >= ? ORDER BY at, id", arguments: [since])
        }
    }
}
