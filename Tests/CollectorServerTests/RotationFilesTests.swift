import CollectorServer
import Foundation
import OpenSSLTLS
import StateFiles
import Testing

/// The state directory through a CA rotation, and a rotation cut short by a crash.
struct RotationFilesTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-rotation-\(UUID().uuidString)").path

    @Test func aRotationCutShortIsFinishedWithoutLosingTheOldKey() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = CollectorFiles(directory: directory)
        let first = try files.initialize(names: ["127.0.0.1"])
        // Crashed after keeping the old CA and writing the new key, before the new certificate.
        try first.key.write(to: files.oldCAKey)
        try StateFile.write(try first.certificate.pem(), to: files.oldCACertificate, mode: 0o644)
        try PrivateKey.generate().write(to: files.caKey)

        let new = try files.rotate(at: 1_800_000_000)
        let old = try #require(try files.oldAuthority())
        #expect(old.certificate.fingerprint == first.certificate.fingerprint)
        #expect(try old.key.pem() == first.key.pem(), "the old CA's key survives the second run")
        #expect(try files.authority().certificate.fingerprint == new.certificate.fingerprint)
        #expect(try Certificate.all(pem: files.bundle()).count == 2)
        #expect(try files.serverSigner().certificate.fingerprint == first.certificate.fingerprint, "hosts trust only the old one yet")
        #expect(throws: StateFile.Failed.self, "one rotation at a time") { try files.rotate(at: 1_800_000_001) }

        let server = try files.retireOld(names: try files.server().subjectAltNames)
        #expect(server.isSigned(by: new.certificate) && server.subjectAltNames == ["127.0.0.1"])
        #expect(try files.oldAuthority() == nil)
        #expect(!FileManager.default.fileExists(atPath: files.oldCAKey))
        #expect(throws: StateFile.Failed.self, "nothing to retire") { try files.retireOld(names: ["127.0.0.1"]) }
    }

    /// `ca init --force` replaces the CA: a rotation's old CA must not stay trusted (nor
    /// sign the server certificate).
    @Test func initForceDuringARotationRemovesTheOldCA() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = CollectorFiles(directory: directory)
        let first = try files.initialize(names: ["127.0.0.1"])
        _ = try files.rotate(at: 1_800_000_000)
        #expect(try files.oldAuthority() != nil)
        let replaced = try files.initialize(names: ["127.0.0.1"], replacing: true)
        #expect(try files.oldAuthority() == nil)
        #expect(!FileManager.default.fileExists(atPath: files.oldCAKey) && !FileManager.default.fileExists(atPath: files.oldCACertificate))
        let trusted = try Certificate.all(pem: files.bundle())
        #expect(trusted.map(\.fingerprint) == [replaced.certificate.fingerprint], "only the new CA")
        #expect(try files.serverSigner().certificate.fingerprint == replaced.certificate.fingerprint)
        #expect(!(try files.server().isSigned(by: first.certificate)))
    }

    /// A ca.key that is not ca.pem's (a rotation cut short between the two files, a
    /// restore of one) signs nothing: what it signed would not verify.
    @Test func aCAKeyThatIsNotTheCertificatesSignsNothing() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = CollectorFiles(directory: directory)
        _ = try files.initialize(names: ["127.0.0.1"])
        try PrivateKey.generate().write(to: files.caKey)
        let refused = try #require(throws: StateFile.Failed.self) { try files.authority() }
        #expect("\(refused)".contains("restore both files from the same backup"), "\(refused)")
        #expect(throws: StateFile.Failed.self) { try files.serverSigner() }

        // Cut short in a rotation: the old CA is kept, and the way out is to finish it.
        let second = CollectorFiles(directory: directory + "/rotated")
        let old = try second.initialize(names: ["127.0.0.1"])
        try old.key.write(to: second.oldCAKey)
        try StateFile.write(try old.certificate.pem(), to: second.oldCACertificate, mode: 0o644)
        try PrivateKey.generate().write(to: second.caKey)
        let cutShort = try #require(throws: StateFile.Failed.self) { try second.authority() }
        #expect("\(cutShort)".contains("ca rotate` was cut short: run it again"), "\(cutShort)")
        _ = try second.rotate(at: 1_800_000_000)
        #expect(try second.authority().certificate.isFor(second.authority().key))
    }

    /// Each CA has a name of its own, and a host's certificate is told from another CA's
    /// by the CA's key, not its name: two rotations within a second, and CAs that share
    /// a name, are still told apart.
    @Test func certificatesAreToldApartByTheirCAsKeyNotItsName() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let files = CollectorFiles(directory: directory)
        let first = try files.initialize(names: ["127.0.0.1"])
        let second = try files.rotate(at: 1_800_000_000)
        _ = try files.retireOld(names: ["127.0.0.1"])
        let third = try files.rotate(at: 1_800_000_000)
        let names = [first, second, third].map { $0.certificate.commonName ?? "" }
        #expect(Set(names).count == 3, "\(names)")

        let twins = try [CertificateAuthority.create(commonName: "portwarden fleet CA"),
                         CertificateAuthority.create(commonName: "portwarden fleet CA")]
        let key = try PrivateKey.generate()
        let issued = try twins.map { try $0.issue(CertificateRequest(key: key, commonName: "web-01"), commonName: "web-01", usage: .client) }
        #expect(issued[0].issuerCommonName == issued[1].issuerCommonName)
        #expect(issued[0].authorityKeyIdentifier != nil)
        #expect(issued.map(\.authorityKeyIdentifier) == twins.map(\.certificate.subjectKeyIdentifier))
        #expect(issued[0].authorityKeyIdentifier != issued[1].authorityKeyIdentifier)
    }
}
