import AgentReporting
import ArgumentParser
import CollectorClient
import Inventory
import OpenSSLTLS
import PortwardenModel
import ProcFS

/// `portwarden-agent enroll`: get this host its certificate from the collector.
struct Enroll: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make this host's key and get its certificate from the collector.",
        discussion: """
            The key is made here (P-256, host.key, 0600) and never leaves the host; the CSR \
            and the fleet's enrollment secret go to the collector over TLS that trusts only \
            --ca-file. The certificate names the host (--name, default: this host's name). \
            If that name already holds a valid certificate, the collector waits for an \
            operator (portwarden enroll approve NAME); run this again afterwards: the same \
            key is reused. Exit status 0 when enrolled, 75 when waiting for approval.
            """)

    @OptionGroup var collectorOptions: CollectorOptions

    @Option(help: ArgumentHelp("A file holding the enrollment secret.", valueName: "file"))
    var secretFile: String

    @Option(help: ArgumentHelp("The fleet CA certificate (PEM) to trust for the collector.", valueName: "file"))
    var caFile: String

    @Option(help: "The host name to ask for (default: this host's name).")
    var name: String?

    func run() throws {
        let file = try collectorOptions.file()
        let state = collectorOptions.state(file)
        try state.prepare()
        let ca = try Certificate(pem: FileWriting.read(caFile))
        let secret = try FileWriting.read(secretFile).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        // Reuse a key made by an earlier attempt: an approval covers that key.
        let key = try (try? PrivateKey(pem: FileWriting.read(state.keyPath))) ?? PrivateKey.generate()
        try key.write(to: state.keyPath)
        // The same name the scan reports: the kernel's, from /proc/sys/kernel/hostname.
        let hostName = name ?? Host.read(procfs: ProcFS(root: "/proc")).hostname
        let csr = try CertificateRequest(key: key, commonName: hostName).pem()
        switch try collectorOptions.connection(file, context: TLSContext.client(trust: ca)).enroll(csr: csr, secret: secret) {
        case .issued(let certificate, let caPEM):
            try FileWriting.write(certificate, to: state.certificatePath, mode: 0o644)
            try FileWriting.write(caPEM, to: state.caPath, mode: 0o644)
            print("enrolled as \(hostName): \(state.certificatePath)")
        case .pending(let message):
            print(message)
            throw ExitCode(75)
        }
    }
}
