import Foundation
import PortwardenModel
import PostgresClient

// STUBS: replaced by the PostgreSQL implementation (issue 15).
extension PostgresHistory {
    public func enroll(_ attempt: EnrollmentAttempt, sign: () throws -> IssuedCertificate) throws -> EnrollmentOutcome {
        throw StoreError(description: "enroll is not built on PostgreSQL yet")
    }

    public func openRequests(now: Int64) throws -> [EnrollmentRequest] {
        throw StoreError(description: "openRequests is not built on PostgreSQL yet")
    }

    public func approveRequest(host: String, fingerprint: String, now: Int64, ttl: Int64, by actor: String) throws -> Result<EnrollmentRequest, RequestAnswerFailure> {
        throw StoreError(description: "approveRequest is not built on PostgreSQL yet")
    }

    public func refuseRequest(host: String, fingerprint: String, now: Int64, by actor: String) throws -> Result<EnrollmentRequest, RequestAnswerFailure> {
        throw StoreError(description: "refuseRequest is not built on PostgreSQL yet")
    }

    public func credential(digest: String) throws -> EnrollmentCredential? {
        throw StoreError(description: "credential is not built on PostgreSQL yet")
    }

    public func enrollmentIsOpen(now: Int64) throws -> Bool {
        throw StoreError(description: "enrollmentIsOpen is not built on PostgreSQL yet")
    }

    public func rotateSecret(digest: String, at now: Int64, by actor: String) throws {
        throw StoreError(description: "rotateSecret is not built on PostgreSQL yet")
    }

    public func disableSecret(at now: Int64, by actor: String) throws -> Bool {
        throw StoreError(description: "disableSecret is not built on PostgreSQL yet")
    }

    public func createToken(_ token: EnrollmentCredential, scope: String) throws -> EnrollmentCredential {
        throw StoreError(description: "createToken is not built on PostgreSQL yet")
    }

    public func tokens() throws -> [EnrollmentCredential] {
        throw StoreError(description: "tokens is not built on PostgreSQL yet")
    }

    public func revokeToken(id: Int64, at now: Int64, by actor: String) throws -> Bool {
        throw StoreError(description: "revokeToken is not built on PostgreSQL yet")
    }

    public func recordSigned(by actor: String, at now: Int64, sign: () throws -> IssuedCertificate) throws -> IssuedCertificate {
        throw StoreError(description: "recordSigned is not built on PostgreSQL yet")
    }

    public func revoke(host: String, at now: Int64, by actor: String) throws -> Int {
        throw StoreError(description: "revoke is not built on PostgreSQL yet")
    }

    public func isRevoked(serial: String) -> Bool {
        true
    }

    public func certificates(host: String?) throws -> [IssuedCertificate] {
        throw StoreError(description: "certificates is not built on PostgreSQL yet")
    }

    public func renew(_ attempt: RenewalAttempt, sign: () throws -> IssuedCertificate) throws -> Result<IssuedCertificate, RenewalRefusal> {
        throw StoreError(description: "renew is not built on PostgreSQL yet")
    }

    public func standing(serial: String) -> CertificateStanding {
        .revoked
    }

    public func markPresented(serial: String, at now: Int64) throws {
        throw StoreError(description: "markPresented is not built on PostgreSQL yet")
    }

    public func currentCertificatesEnding(before: Int64) throws -> Int {
        throw StoreError(description: "currentCertificatesEnding is not built on PostgreSQL yet")
    }

    public func audit(_ entry: AuditEntry) throws {
        throw StoreError(description: "audit is not built on PostgreSQL yet")
    }

    public func auditEntries(since: Int64) throws -> [AuditEntry] {
        throw StoreError(description: "auditEntries is not built on PostgreSQL yet")
    }
}
