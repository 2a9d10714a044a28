import AgentReporting
import Foundation
import OpenSSLTLS
import PortwardenTestSupport
import StateFiles
import Testing

/// A renewal cut short at any point leaves the agent a key and certificate that match:
/// `prepare()` finishes what was stored, and drops what cannot be used.
struct RenewalStateTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-renewal-\(UUID().uuidString)").path

    /// An enrolled state (pair A) with a renewal's pair B written as host.key.next and
    /// host.pem.next; B's certificate and key.
    func interrupted(_ pki: TestPKI) throws -> (AgentState, old: Certificate, new: Certificate) {
        let state = AgentState(directory: directory)
        try state.prepare()
        let (oldCertificate, oldKey) = try pki.host("web-01")
        try oldKey.write(to: state.keyPath)
        try StateFile.write(try oldCertificate.pem(), to: state.certificatePath, mode: 0o644)
        let (newCertificate, newKey) = try pki.host("web-01")
        try newKey.write(to: state.keyPath + ".next")
        try StateFile.write(try newCertificate.pem(), to: state.certificatePath + ".next", mode: 0o644)
        return (state, oldCertificate, newCertificate)
    }

    func held(_ state: AgentState) throws -> (Certificate, PrivateKey) {
        (try Certificate(pem: StateFile.read(state.certificatePath)), try PrivateKey.read(from: state.keyPath))
    }

    @Test func bothStoredIsFinished() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, _, new) = try interrupted(TestPKI())
        try state.prepare()
        let (certificate, key) = try held(state)
        #expect(certificate.serial == new.serial && certificate.isFor(key))
        #expect(!FileManager.default.fileExists(atPath: state.certificatePath + ".next"))
        #expect(!FileManager.default.fileExists(atPath: state.keyPath + ".next"))
    }

    @Test func theKeyMovedButNotTheCertificateIsFinished() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, _, new) = try interrupted(TestPKI())
        rename(state.keyPath + ".next", state.keyPath)
        try state.prepare()
        let (certificate, key) = try held(state)
        #expect(certificate.serial == new.serial && certificate.isFor(key))
    }

    @Test func aCertificateForNeitherKeyIsDropped() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pki = try TestPKI()
        let (state, old, _) = try interrupted(pki)
        try StateFile.write(try pki.host("web-01").0.pem(), to: state.certificatePath + ".next", mode: 0o644)
        try state.prepare()
        let (certificate, key) = try held(state)
        #expect(certificate.serial == old.serial && certificate.isFor(key), "the old pair stays")
        #expect(!FileManager.default.fileExists(atPath: state.certificatePath + ".next"))
        #expect(FileManager.default.fileExists(atPath: state.keyPath + ".next"), "kept: a retry asks with the same key")
    }
}
