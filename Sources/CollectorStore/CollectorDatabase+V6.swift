import Foundation
internal import GRDB
import PortwardenModel

extension CollectorDatabase {
    /// v6: the audit, enrollment credentials kept as digests, requests that expire, and
    /// host names in one spelling with at most one unrevoked certificate per name.
    static func migrateV6(_ db: Database) throws {
        // Who did what to which host, when, from where: `portwarden audit`.
        try db.create(table: "audit") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("at", .integer).notNull().indexed()
            t.column("action", .text).notNull()
            t.column("actor", .text).notNull()
            t.column("host", .text)
            t.column("address", .text)
            t.column("detail", .text).notNull()
        }
        // The enrollment secret and scoped tokens, as SHA-256 digests only.
        try db.create(table: "enrollmentCredential") { t in
            t.autoIncrementedPrimaryKey("id")
            t.column("kind", .text).notNull()  // secret | token
            t.column("digest", .text).notNull().unique()
            t.column("names", .text)  // a token's host-name pattern
            t.column("maxUses", .integer)
            t.column("uses", .integer).notNull().defaults(to: 0)
            t.column("expiresAt", .integer)
            t.column("createdAt", .integer).notNull()
            t.column("createdBy", .text).notNull()
            t.column("revokedAt", .integer)
        }
        try db.create(index: "enrollmentCredential_oneSecret", on: "enrollmentCredential", columns: ["kind"], unique: true,
                      condition: Column("kind") == "secret" && Column("revokedAt") == nil)
        try db.alter(table: "enrollmentRequest") { t in
            t.add(column: "address", .text)
            t.add(column: "expiresAt", .integer).notNull().defaults(to: 0)
            t.add(column: "refusedAt", .integer)
            t.add(column: "reason", .text)
            t.add(column: "credential", .text)
        }
        let now = Int64(Date().timeIntervalSince1970)
        // An older release's approval covered every key waiting for a name: none survives
        // the upgrade. A host still waiting asks again and is listed by `enroll pending`.
        try db.execute(sql: "UPDATE enrollmentRequest SET expiresAt = MIN(requestedAt + 86400, ?)", arguments: [now])
        try NameMigration(db: db, now: now).run()
        try db.create(index: "certificate_oneUnrevoked", on: "certificate", columns: ["hostName"], unique: true,
                      condition: Column("revokedAt") == nil)
    }
}

/// Host names an older release stored as they came (`WEB-01`, `web-01.`) are put in
/// normal form where that merges nothing; look-alikes (two spellings of one name among
/// hosts and certificates) are left for an operator, with their unrevoked certificates
/// revoked unless spelled in normal form — after the upgrade both would report as the
/// one normal name. Names that cannot be host names at all (`localhost`) stay as they
/// are, and their certificates work until revoked or expired. Each step is audited.
struct NameMigration {
    let db: Database
    let now: Int64
    static let actor = "upgrade v6"

    func run() throws {
        var spellings: [String: Set<String>] = [:]
        let names = Set(try String.fetchAll(db, sql: "SELECT DISTINCT hostName FROM certificate UNION SELECT name FROM host"))
        for name in names.sorted() {
            switch HostName.normalized(name) {
            case .success(let normal): spellings[normal, default: []].insert(name)
            case .failure(let error):
                try audit(.nameLeft, name, "\(error.reason): kept as written; its certificate works until revoked or "
                    + "expired — enroll the host under a proper name")
            }
        }
        for (normal, group) in spellings.sorted(by: { $0.key < $1.key }) where group != [normal] {
            try merge(normal, group)
        }
        try keepNewestUnrevoked()
        try normalizeTagEdits()
    }

    /// One name's spellings become the normal one in the certificate list, so a name that
    /// held a certificate in any spelling is held; host rows are renamed only when alone.
    private func merge(_ normal: String, _ group: Set<String>) throws {
        let list = group.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
        let others = Array(group.subtracting([normal]))
        if group.count > 1 {
            let live = try Row.fetchAll(db, sql: """
                SELECT serial, hostName FROM certificate WHERE revokedAt IS NULL AND hostName IN (\(others.map { _ in "?" }.joined(separator: ",")))
                """, arguments: StatementArguments(others))
            for row in live {
                let serial: String = row[0], spelling: String = row[1]
                try db.execute(sql: "UPDATE certificate SET revokedAt = ? WHERE serial = ?", arguments: [now, serial])
                try audit(.certificateRevoked, normal, "serial \(serial) of look-alike \"\(spelling)\": names compare in normal "
                    + "form now, and it would have reported as \(normal); if it was the real host, enroll it again and approve its key")
            }
            try audit(.nameLeft, normal, "look-alikes \(list) are one name now; their histories stay apart under the old "
                + "spellings in `hosts list`")
        } else if let only = group.first {
            try db.execute(sql: "UPDATE host SET name = ? WHERE name = ?", arguments: [normal, only])
            try audit(.nameNormalized, normal, "\"\(only)\" is now written \(normal)")
        }
        try db.execute(sql: "UPDATE certificate SET hostName = ? WHERE hostName IN (\(others.map { _ in "?" }.joined(separator: ",")))",
                       arguments: StatementArguments([normal] + others))
    }

    /// An older release could leave one name several unrevoked certificates (an operator
    /// signing twice, or parallel enrollments): the newest stays.
    private func keepNewestUnrevoked() throws {
        let extra = try Row.fetchAll(db, sql: """
            SELECT serial, hostName FROM certificate c WHERE revokedAt IS NULL AND EXISTS (
                SELECT 1 FROM certificate n WHERE n.hostName = c.hostName AND n.revokedAt IS NULL
                AND (n.issuedAt > c.issuedAt OR (n.issuedAt = c.issuedAt AND n.rowid > c.rowid)))
            """)
        for row in extra {
            let serial: String = row[0], host: String = row[1]
            try db.execute(sql: "UPDATE certificate SET revokedAt = ? WHERE serial = ?", arguments: [now, serial])
            try audit(.certificateRevoked, host, "serial \(serial): superseded by the name's newest certificate "
                + "(a name has one unrevoked certificate now)")
        }
    }

    /// Operators' tag edits follow the name into normal form, unless the normal name has
    /// its own edit of that tag (then the older spelling's edit is left, and said so).
    private func normalizeTagEdits() throws {
        for row in try Row.fetchAll(db, sql: "SELECT hostName, folded FROM hostTag") {
            let name: String = row[0], folded: String = row[1]
            guard case .success(let normal) = HostName.normalized(name), normal != name else { continue }
            let taken = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM hostTag WHERE hostName = ? AND folded = ?)",
                                          arguments: [normal, folded]) ?? false
            if taken {
                try audit(.nameLeft, normal, "the tag edit \(folded) of \"\(name)\" is left under that spelling: \(normal) has its own")
            } else {
                try db.execute(sql: "UPDATE hostTag SET hostName = ? WHERE hostName = ? AND folded = ?", arguments: [normal, name, folded])
                try audit(.nameNormalized, normal, "the tag edit \(folded) of \"\(name)\" now applies to \(normal)")
            }
        }
    }

    private func audit(_ action: AuditAction, _ host: String, _ detail: String) throws {
        var entry = AuditEntry(at: now, action: action, actor: Self.actor, host: host, detail: detail)
        try entry.insert(db)
    }
}
