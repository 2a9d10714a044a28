@testable import CollectorServer
import OpenSSLTLS
import PortwardenTestSupport
import Testing

/// The handshake's identity cache: read once per certificate (whichever object a
/// handshake parsed it into), never handed to another certificate, bounded.
struct PeerIdentitiesTests {
    @Test func aCertificateIsReadOnceAndEachKeepsItsOwnIdentity() throws {
        let pki = try TestPKI()
        let identities = PeerIdentities(capacity: 2)
        let web = try pki.host("WEB-01").0, db = try pki.host("db-01").0
        let first = identities.identity(of: web)
        #expect(first == PeerIdentity(certificate: web))
        #expect(first.host == "web-01")
        #expect(identities.identity(of: web) == first)
        // A full handshake parses the same certificate into another object: still known.
        let parsedAgain = try Certificate(pem: try web.pem())
        #expect(identities.identity(of: parsedAgain) == first)
        #expect(identities.count == 1)
        #expect(identities.identity(of: db).serial == db.serial)
        #expect(identities.count == 2)
        // A third certificate past the bound empties the cache rather than growing it.
        let third = try pki.host("app-01").0
        #expect(identities.identity(of: third).host == "app-01")
        #expect(identities.count == 1)
        #expect(identities.identity(of: nil) == PeerIdentity(certificate: nil))
    }
}
