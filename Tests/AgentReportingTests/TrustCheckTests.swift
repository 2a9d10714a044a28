import AgentReporting
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// What the agent installs from a collector's answer (`TrustCheck`): a renewal or a CA
/// bundle update from a collector that is not the fleet's — or is the fleet's gone wrong
/// — is refused, and the host keeps its pair and ca.pem; the real ones are installed.
/// The evil certificates and CAs are made here, as a fake collector would make them.
struct TrustCheckTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-trust-\(UUID().uuidString)").path
    let now = Int64(Date().timeIntervalSince1970)
    static let day = 86_400

    /// An agent enrolled as web-01 with a certificate from `signer`, trusting `trusted`.
    func enrolled(by signer: CertificateAuthority, trusting trusted: [Certificate]) throws -> AgentState {
        let state = AgentState(directory: directory)
        try state.prepare()
        let key = try PrivateKey.generate()
        try key.write(to: state.keyPath)
        let certificate = try signer.issue(CertificateRequest(key: key, commonName: "web-01"), commonName: "web-01", usage: .client,
                                           lifetime: 90 * Self.day)
        try StateFile.write(try certificate.pem(), to: state.certificatePath, mode: 0o644)
        try StateFile.write(try trusted.map { try $0.pem() }.joined(), to: state.caPath, mode: 0o644)
        return state
    }

    /// host.key, host.pem, ca.pem as they are.
    func files(_ state: AgentState) throws -> [String] {
        try [state.keyPath, state.certificatePath, state.caPath].map { try StateFile.read($0) }
    }

    /// A collector's server certificate signed by `ca` (the real one's, or one made with a leaked key).
    func server(_ ca: CertificateAuthority) throws -> Certificate {
        try ca.issue(for: PrivateKey.generate(), commonName: "127.0.0.1", usage: .server(names: ["127.0.0.1"]), lifetime: Self.day)
    }

    /// A renewal's new key, written where a renewal keeps it while it is under way.
    func nextKey(_ state: AgentState) throws -> PrivateKey {
        let key = try PrivateKey.generate()
        try key.write(to: state.keyPath + ".next")
        return key
    }

    func request(_ key: PrivateKey, _ name: String = "web-01") throws -> CertificateRequest {
        try CertificateRequest(key: key, commonName: name)
    }

    @Test func aRenewalFromTheFleetIsInstalled() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fleet = try CertificateAuthority.create(commonName: "fleet CA")
        let state = try enrolled(by: fleet, trusting: [fleet.certificate])
        let key = try nextKey(state)
        // The longest a collector gives (--certificate-lifetime 3650d): accepted.
        let issued = try fleet.issue(request(key), commonName: "web-01", usage: .client, lifetime: 3_650 * Self.day)
        let renewed = try Renewal(state: state).install(certificate: issued.pem(), bundle: fleet.certificate.pem(),
                                                        server: server(fleet), key: key, name: "web-01", now: now)
        #expect(renewed.serial == issued.serial)
        let held = try Certificate(pem: StateFile.read(state.certificatePath))
        let heldKey = try PrivateKey.read(from: state.keyPath)
        #expect(held.serial == issued.serial && held.isFor(heldKey))
    }

    /// The review's attack: a fake collector holding the old CA's key hands a 10-year
    /// certificate from its own CA and a bundle of that CA and the old one.
    @Test func anEvilCollectorsRenewalIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fleet = try CertificateAuthority.create(commonName: "fleet CA")
        let evil = try CertificateAuthority.create(commonName: "evil CA")
        let other = try CertificateAuthority.create(commonName: "fleet CA")  // same name, another key
        let state = try enrolled(by: fleet, trusting: [fleet.certificate])
        let key = try nextKey(state)
        let before = try files(state)
        let fakeServer = try server(fleet)
        let evilAndFleet = try evil.certificate.pem() + fleet.certificate.pem()
        func issued(by ca: CertificateAuthority, for key: PrivateKey, name: String = "web-01", days: Int = 90,
                    from offset: Int = -300) throws -> String {
            try ca.issue(request(key, name), commonName: name, usage: .client, days: days, from: offset).pem()
        }
        let cases: [(String, certificate: String, bundle: String, server: Certificate)] = [
            ("ten years from the evil CA", try issued(by: evil, for: key, days: 3_652), evilAndFleet, fakeServer),
            ("a day over the most a collector gives", try issued(by: fleet, for: key, days: 3_651), try fleet.certificate.pem(), fakeServer),
            ("for another key", try issued(by: fleet, for: PrivateKey.generate()), try fleet.certificate.pem(), fakeServer),
            ("for the old key", try issued(by: fleet, for: PrivateKey.read(from: state.keyPath)), try fleet.certificate.pem(), fakeServer),
            ("another name", try issued(by: fleet, for: key, name: "db-01"), try fleet.certificate.pem(), fakeServer),
            ("a CA not in the bundle", try issued(by: evil, for: key), try fleet.certificate.pem(), fakeServer),
            ("a CA of the same name", try issued(by: other, for: key), try fleet.certificate.pem(), fakeServer),
            ("expired", try issued(by: fleet, for: key, days: 1, from: -2 * Self.day), try fleet.certificate.pem(), fakeServer),
            ("not valid yet", try issued(by: fleet, for: key, from: Self.day), try fleet.certificate.pem(), fakeServer),
            ("a bundle without the connection's CA", try issued(by: evil, for: key), try evil.certificate.pem(), fakeServer),
            ("an empty bundle", try issued(by: fleet, for: key), "", fakeServer),
            ("a bundle of junk", try issued(by: fleet, for: key), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", fakeServer),
            ("no certificate", "", try fleet.certificate.pem(), fakeServer),
            ("a server certificate from a CA not in ca.pem", try issued(by: evil, for: key), evilAndFleet, try server(evil)),
        ]
        for (what, certificate, bundle, server) in cases {
            #expect(throws: TrustRefused.self, "\(what)") {
                try Renewal(state: state).install(certificate: certificate, bundle: bundle, server: server, key: key,
                                                  name: "web-01", now: now)
            }
            #expect(try files(state) == before, "\(what): the pair and ca.pem stay")
        }
    }

    /// After `ca retire-old`: a host on the new CA, trusting both, is handed the new one alone.
    @Test func theOldCALeavesWhenTheOverlapEnds() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = try CertificateAuthority.create(commonName: "fleet CA 1")
        let new = try CertificateAuthority.create(commonName: "fleet CA 2")
        let state = try enrolled(by: new, trusting: [new.certificate, old.certificate])
        let update = CAUpdate(state: state)
        let digest = Certificate.bundleDigest([new.certificate])
        #expect(update.isNeeded(digest: digest))
        #expect(!update.isNeeded(digest: Certificate.bundleDigest([old.certificate, new.certificate])), "the order does not count")
        let installed = try update.install(new.certificate.pem(), server: server(new), now: now)
        #expect(installed.map(\.fingerprint) == [new.certificate.fingerprint])
        #expect(try state.trustedCAs().map(\.fingerprint) == [new.certificate.fingerprint])
        #expect(!update.isNeeded(digest: digest))
    }

    @Test func aBundleUpdateThatWouldCutTheHostOffIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let old = try CertificateAuthority.create(commonName: "fleet CA 1")
        let new = try CertificateAuthority.create(commonName: "fleet CA 2")
        let evil = try CertificateAuthority.create(commonName: "evil CA")
        // Not renewed yet: its certificate is the old CA's.
        let state = try enrolled(by: old, trusting: [new.certificate, old.certificate])
        let before = try files(state)
        let cases: [(String, bundle: String, server: Certificate)] = [
            ("drops the CA of this host's certificate", try new.certificate.pem(), try server(new)),
            ("drops the connection's CA", try old.certificate.pem(), try server(new)),
            ("the evil CA alone, over a leaked key", try evil.certificate.pem(), try server(old)),
            ("the evil CA added, from a server no CA in ca.pem signed", try evil.certificate.pem() + old.certificate.pem(),
             try server(evil)),
            ("empty", "", try server(old)),
        ]
        for (what, bundle, server) in cases {
            #expect(throws: TrustRefused.self, "\(what)") { try CAUpdate(state: state).install(bundle, server: server, now: now) }
            #expect(try files(state) == before, "\(what): ca.pem stays")
        }
    }
}
