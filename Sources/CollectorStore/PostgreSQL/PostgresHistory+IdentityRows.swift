import PostgresClient

// The identity records read from and written to PostgreSQL rows, column by column as
// SQLite's (`init(row:)`, `insert`, `update` beside each record); a column added to a
// record is added in both.

extension IssuedCertificate {
    init(pg row: PGRow) throws {
        self.init(serial: try row.value("serial"), hostName: try row.value("hostName"), fingerprint: try row.value("fingerprint"),
                  notAfter: try row.value("notAfter"), issuedAt: try row.value("issuedAt"),
                  keyFingerprint: try row.value("keyFingerprint"), issuer: try row.value("issuer"))
        revokedAt = try row.value("revokedAt")
        renews = try row.value("renews")
        renewedBy = try row.value("renewedBy")
        firstPresentedAt = try row.value("firstPresentedAt")
    }

    func insert(_ connection: PGConnection) throws {
        try connection.execute("""
            INSERT INTO certificate (serial, hostName, fingerprint, notAfter, issuedAt, revokedAt, keyFingerprint, renews,
                                     renewedBy, firstPresentedAt, issuer)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """, [serial, hostName, fingerprint, notAfter, issuedAt, revokedAt, keyFingerprint, renews, renewedBy,
                  firstPresentedAt, issuer])
    }
}

extension EnrollmentRequest {
    init(pg row: PGRow) throws {
        self.init(id: try row.value("id"), hostName: try row.value("hostName"), keyFingerprint: try row.value("keyFingerprint"),
                  requestedAt: try row.value("requestedAt"), approvedAt: try row.value("approvedAt"),
                  issuedSerial: try row.value("issuedSerial"), address: try row.value("address"),
                  expiresAt: try row.value("expiresAt"), refusedAt: try row.value("refusedAt"), reason: try row.value("reason"),
                  credential: try row.value("credential"), supersededAt: try row.value("supersededAt"),
                  supersededBy: try row.value("supersededBy"))
    }

    /// Inserts the request; its id is set.
    mutating func insert(_ connection: PGConnection) throws {
        id = try connection.execute("""
            INSERT INTO enrollmentRequest (hostName, keyFingerprint, requestedAt, approvedAt, issuedSerial, address, expiresAt,
                                           refusedAt, reason, credential, supersededAt, supersededBy)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id
            """, [hostName, keyFingerprint, requestedAt, approvedAt, issuedSerial, address, expiresAt, refusedAt, reason,
                  credential, supersededAt, supersededBy]).first?.value("id")
    }

    /// Writes the row back whole.
    func update(_ connection: PGConnection) throws {
        try connection.execute("""
            UPDATE enrollmentRequest SET hostName = $1, keyFingerprint = $2, requestedAt = $3, approvedAt = $4, issuedSerial = $5,
                address = $6, expiresAt = $7, refusedAt = $8, reason = $9, credential = $10, supersededAt = $11, supersededBy = $12
            WHERE id = $13
            """, [hostName, keyFingerprint, requestedAt, approvedAt, issuedSerial, address, expiresAt, refusedAt, reason,
                  credential, supersededAt, supersededBy, id])
    }
}

extension EnrollmentCredential {
    init(pg row: PGRow) throws {
        let kind: String = try row.value("kind")
        guard let known = Kind(rawValue: kind) else { throw StoreError(description: "unknown credential kind \"\(kind.prefix(40))\"") }
        self.kind = known
        id = try row.value("id")
        digest = try row.value("digest")
        names = try row.value("names")
        maxUses = try row.value("maxUses")
        uses = try row.value("uses")
        expiresAt = try row.value("expiresAt")
        createdAt = try row.value("createdAt")
        createdBy = try row.value("createdBy")
        revokedAt = try row.value("revokedAt")
        replacedBy = try row.value("replacedBy")
    }

    /// Inserts the credential; its id is set.
    mutating func insert(_ connection: PGConnection) throws {
        id = try connection.execute("""
            INSERT INTO enrollmentCredential (kind, digest, names, maxUses, uses, expiresAt, createdAt, createdBy, revokedAt, replacedBy)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id
            """, [kind.rawValue, digest, names, maxUses, uses, expiresAt, createdAt, createdBy, revokedAt, replacedBy])
            .first?.value("id")
    }
}

extension AuditEntry {
    init(pg row: PGRow) throws {
        id = try row.value("id")
        at = try row.value("at")
        action = AuditAction(try row.value("action") as String)
        actor = try row.value("actor")
        host = try row.value("host")
        address = try row.value("address")
        detail = try row.value("detail")
    }

    /// Inserts the entry (prepared: every enrollment and renewal writes one). A NUL, which
    /// PostgreSQL's text cannot hold, becomes U+FFFD, as the wire reader makes it: an audit
    /// entry quotes what a client sent (a CSR's name), and a refusal must be recorded, not
    /// fail.
    func insert(_ connection: PGConnection) throws {
        func storable(_ text: String?) -> String? { text?.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") }
        try connection.executePrepared("INSERT INTO audit (at, action, actor, host, address, detail) VALUES ($1, $2, $3, $4, $5, $6)",
                                       [at, action.rawValue, storable(actor), storable(host), storable(address), storable(detail)])
    }
}
