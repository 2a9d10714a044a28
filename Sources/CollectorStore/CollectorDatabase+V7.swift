internal import GRDB

extension CollectorDatabase {
    /// v7-enrollment: what `enroll pending` needs to say why a name waits, and what a
    /// refused host is told. Adds only nullable columns, filled where older rows tell.
    static func migrateV7Enrollment(_ db: Database) throws {
        // The key a certificate was issued to, so "this key already holds the name's
        // current certificate" can be told from a reinstall.
        try db.alter(table: "certificate") { t in t.add(column: "keyFingerprint", .text) }
        try db.execute(sql: """
            UPDATE certificate SET keyFingerprint = (
                SELECT keyFingerprint FROM enrollmentRequest r WHERE r.issuedSerial = certificate.serial)
            """)
        // A request left waiting when another key was issued the name: listed, not approvable.
        try db.alter(table: "enrollmentRequest") { t in
            t.add(column: "supersededAt", .integer)
            t.add(column: "supersededBy", .text)  // the serial issued instead
        }
        // A retired secret either was replaced (by this one) or enrollment by secret was
        // turned off. `enroll secret` retired the old one in the second it made the new.
        try db.alter(table: "enrollmentCredential") { t in t.add(column: "replacedBy", .integer) }
        try db.execute(sql: """
            UPDATE enrollmentCredential SET replacedBy = (
                SELECT n.id FROM enrollmentCredential n
                WHERE n.kind = 'secret' AND n.createdAt = enrollmentCredential.revokedAt AND n.id > enrollmentCredential.id
                ORDER BY n.id LIMIT 1)
            WHERE kind = 'secret' AND revokedAt IS NOT NULL
            """)
    }
}
