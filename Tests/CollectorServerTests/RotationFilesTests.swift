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
}
