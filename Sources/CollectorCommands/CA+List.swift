import ArgumentParser
import CollectorServer
import Glibc
import OpenSSLTLS
import PortwardenModel
import Reports
import StateFiles

extension CA {
    /// `portwarden ca list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The collector's certificates: the fleet CA, the old one during a rotation, the server's.",
            discussion: """
                One row each, with its SHA-256 fingerprint (what `ca rotate` and the audit \
                print) and dates. During a rotation (ca-old.pem present) each host that \
                still holds only the old CA's certificate is named, as `ca retire-old` would. \
                Reads the certificates only, never a key.
                """)

        @OptionGroup var state: StateOptions

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        struct Row: Encodable {
            var role: String
            var subject: String
            var serial: String
            var sha256: String
            var notBefore: String
            var notAfter: String
            /// During a rotation, the old CA's hosts that have not renewed onto the new one.
            var notRenewed: [String]?
        }

        func run() throws {
            let files = try state.files()
            func certificate(_ path: String) throws -> Certificate { try Certificate(pem: StateFile.read(path)) }
            let ca = try certificate(files.caCertificate)
            var rows = [Self.row("ca", ca), Self.row("server", try certificate(files.serverCertificate))]
            if access(files.oldCACertificate, F_OK) == 0 {
                var old = Self.row("ca-old", try certificate(files.oldCACertificate))
                old.notRenewed = CollectorFiles.notRenewed(try openHistory(state).certificates(), newCA: ca.fingerprint, now: nowSeconds)
                rows.insert(old, at: 1)
            }
            switch format {
            case .json: try Listing.print("certificates", rows: rows)
            case .table:
                print(TextLayout.table(["ROLE", "SUBJECT", "SERIAL", "SHA-256", "NOT BEFORE", "NOT AFTER", "NOT RENEWED"], rows.map {
                    [$0.role, $0.subject, $0.serial, $0.sha256, $0.notBefore, $0.notAfter, $0.notRenewed?.joined(separator: ", ") ?? "-"]
                }, width: .max), terminator: "")
            }
        }

        static func row(_ role: String, _ certificate: Certificate) -> Row {
            Row(role: role, subject: certificate.commonName ?? "-", serial: certificate.serial, sha256: certificate.fingerprint,
                notBefore: Timestamp.rfc3339(certificate.notBefore), notAfter: Timestamp.rfc3339(certificate.notAfter))
        }
    }
}
