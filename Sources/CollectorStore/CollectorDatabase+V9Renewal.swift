internal import GRDB

extension CollectorDatabase {
    /// v9-renewal: a host renews its certificate with its current one. A renewed
    /// certificate records the serial it renews (`renews`), the one it replaces the
    /// serial that replaced it (`renewedBy`), and each certificate when it was first
    /// presented at a handshake (`firstPresentedAt`): a predecessor is accepted until its
    /// successor is first presented. "One unrevoked certificate a name" becomes "one
    /// current certificate a name": unrevoked and not renewed. And which CA signed it
    /// (`issuer`, its certificate's SHA-256; nil: the first CA, before any rotation), so
    /// that `ca retire-old` knows who still holds only the old CA's.
    static func migrateV9Renewal(_ db: Database) throws {
        try db.alter(table: "certificate") { t in
            t.add(column: "renews", .text)
            t.add(column: "renewedBy", .text)
            t.add(column: "firstPresentedAt", .integer)
            t.add(column: "issuer", .text)
        }
        try db.drop(index: "certificate_oneUnrevoked")
        try db.create(index: "certificate_oneCurrent", on: "certificate", columns: ["hostName"], unique: true,
                      condition: Column("revokedAt") == nil && Column("renewedBy") == nil)
    }
}
