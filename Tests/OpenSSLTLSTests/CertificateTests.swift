import Testing
import OpenSSLTLS
import PortwardenTestSupport

struct CertificateTests {
    @Test func keysAndCertificatesSurvivePEM() throws {
        let pki = try TestPKI()
        let pem = try pki.serverKey.pem()
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try PrivateKey(pem: pem).pem() == pem)
        let certificate = try Certificate(pem: try pki.serverCertificate.pem())
        #expect(certificate.commonName == "collector")
        #expect(certificate.issuerCommonName == "portwarden test CA")
        #expect(certificate.fingerprint == pki.serverCertificate.fingerprint)
        #expect(certificate.fingerprint.count == 64)
        #expect(certificate.serial == pki.serverCertificate.serial && !certificate.serial.isEmpty)
        #expect(certificate.notAfter - certificate.notBefore == 397 * 86_400)
    }

    @Test func theCollectorNotTheRequestNamesTheHost() throws {
        let pki = try TestPKI()
        let key = try PrivateKey.generate()
        let request = try CertificateRequest(pem: try CertificateRequest(key: key, commonName: "openvms-prod").pem())
        #expect(request.commonName == "openvms-prod")
        #expect(request.isSelfSigned)
        let issued = try pki.ca.issue(request, commonName: "web-01", usage: .client)
        #expect(issued.commonName == "web-01")
        #expect(issued.issuerCommonName == "portwarden test CA")
    }

    @Test func garbageIsARefusalNotACrash() {
        #expect(throws: TLSError.self) { try Certificate(pem: "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n") }
        #expect(throws: TLSError.self) { try PrivateKey(pem: "") }
        #expect(throws: TLSError.self) { try CertificateRequest(pem: "not a request") }
    }
}
