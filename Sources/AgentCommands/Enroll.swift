import AgentReporting
import ArgumentParser
import CollectorClient
import EventLog
import Glibc
import HostScan
import Logging
import OpenSSLTLS
import PortwardenModel
import ProcFS
import StateFiles

/// `portwarden-agent enroll`: get this host its certificate from the collector.
struct Enroll: ParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make this host's key and get its certificate from the collector.",
        discussion: """
            The key is made here (P-256, host.key, 0600) and never leaves the host; the CSR \
            and the enrollment secret or a token go to the collector over TLS that trusts \
            only --ca-file. The certificate names the host (--name, default: this host's \
            name), in normal form: lower case, no trailing dot; localhost and addresses are \
            refused. Once enrolled, the secret or token file is deleted: the host needs it \
            no more, and it should not lie around.

            If the name ever held a certificate, or the collector's inventory gives it a \
            tag, an operator must approve this key first: the fingerprint printed here is \
            the one to approve (portwarden enroll approve NAME --fingerprint FP). Run this \
            again afterwards, within the time printed: the same key is reused.

            A host already enrolled — a certificate for this name, from this CA, for its \
            key, valid now — is left as it is: "already enrolled", the secret or token \
            file is deleted, exit 0. So a configuration tool may run this on every pass. \
            A host enrolled under another name is not renamed unasked (exit 2): pass that \
            --name, or --force. \
            This is decided on the host, without asking the collector: after `portwarden \
            hosts revoke`, --force asks again with the same key; as the name is held, an \
            operator must approve it.

            With several collectors (--collector repeated, or a list in collector:) each is \
            asked in turn, in this host's order, until one answers; one that does not, or \
            answers 429 or 5xx, is logged (event=collector_failover) and the next is asked.

            Exit status: 0 enrolled; 75 waiting for approval, or the collector asked to \
            try again later (too many attempts from this address); 3 refused (a wrong \
            secret, a token that does not cover the name, a key an operator refused); 2 a \
            bad argument.
            """)

    @OptionGroup var collectorOptions: CollectorOptions

    @Option(help: ArgumentHelp("A file holding the enrollment secret; deleted once enrolled.", valueName: "file"))
    var secretFile: String?

    @Option(help: ArgumentHelp("A file holding an enrollment token (portwarden enroll token create); deleted once enrolled.",
                               valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("The fleet CA certificate (PEM) to trust for the collector.", valueName: "file"))
    var caFile: String

    @Option(help: "The host name to ask for (default: this host's name).")
    var name: String?

    @Flag(help: "Enroll even when this host already holds a valid certificate for the name (after `portwarden hosts revoke`, say).")
    var force = false

    @OptionGroup var logOptions: LogOptions

    func validate() throws {
        guard (secretFile == nil) != (tokenFile == nil) else {
            throw ValidationError("give either --secret-file or --token-file")
        }
    }

    func run() throws {
        // The same name the scan reports: the kernel's, from /proc/sys/kernel/hostname.
        let asked = name ?? Host.read(procfs: ProcFS(root: "/proc")).hostname
        let hostName: String
        switch HostName.normalized(asked) {
        case .success(let normal): hostName = normal
        case .failure(let error): throw ValidationError("\(error)\(name == nil ? " (this host's name): pass --name" : "")")
        }
        let file = try collectorOptions.file()
        let state = collectorOptions.state(file)
        try state.prepare()
        let ca = try Certificate(pem: StateFile.read(caFile))
        let credentialFile = secretFile ?? tokenFile!
        // Checked here, not with the collector: a revoked certificate looks the same.
        // The CAs this host was handed since (a renewal during a CA rotation) count too: a
        // configuration tool still passing the old --ca-file must not enroll it again.
        let authorities = [ca] + ((try? Certificate.all(pem: StateFile.read(state.caPath, followingLinks: false))) ?? [])
        if !force, let held = Self.enrolled(state, by: authorities), let heldName = held.commonName {
            let until = Timestamp.rfc3339(Int64(held.notAfter))
            guard heldName == hostName else {
                // A configuration run without --name on a host renamed since: not a new identity unasked.
                printError("enroll: this host is enrolled as \(heldName) (\(state.certificatePath), valid until \(until)), not \(hostName): "
                           + "pass --name \(heldName), or --force to enroll as \(hostName) (\(heldName)'s certificate stays valid "
                           + "until an operator revokes it: portwarden hosts revoke \(heldName))")
                throw ExitCode(2)
            }
            print("already enrolled as \(hostName) until \(until) (\(state.certificatePath)); "
                  + "nothing to do (if the collector revoked it, --force asks for a new one)")
            deleteCredential(credentialFile)
            return
        }
        let credential = try StateFile.read(credentialFile).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        // Reuse a key made by an earlier attempt: an approval covers that key.
        let key = access(state.keyPath, F_OK) == 0 ? try PrivateKey.read(from: state.keyPath, followingLinks: false)
            : try PrivateKey.generate()
        try key.write(to: state.keyPath)
        let request = try CertificateRequest(key: key, commonName: hostName)
        let collectors = try collectorOptions.collectors(file, context: TLSContext.client(trust: ca), name: hostName, state: state)
        let logger = Logger(label: "portwarden.agent.enroll")
        let result: EnrollmentResult
        do {
            let csr = try request.pem()
            result = try collectors.firstAnswer({ connection in
                try secretFile != nil ? connection.enroll(csr: csr, secret: credential) : connection.enroll(csr: csr, token: credential)
            }, failed: { $0.log(to: logger) })
        } catch let refused as EnrollmentRefused {
            logger.error("enroll: \(refused.message)", metadata: [
                "event": "enrollment_refused", "host": "\(hostName)", "status": "\(refused.status)", "reason": "\(refused.message)"])
            throw ExitCode(refused.status == 429 || refused.status >= 500 ? 75 : refused.status == 400 ? 2 : 3)
        }
        switch result {
        case .issued(let certificatePEM, let caPEM):
            // The same checks as a renewal's: the connection was trusted by `ca` alone.
            let check = TrustCheck(connectionCA: ca, now: Int64(time(nil)))
            let bundle: [Certificate], certificate: Certificate
            do {
                bundle = try check.bundle(caPEM)
                certificate = try check.certificate(certificatePEM, for: key, name: hostName, bundle: bundle)
            } catch {
                logger.error(
                    "enroll: refused the collector's answer, nothing installed: \(error); is --collector the fleet's collector?",
                    metadata: ["event": "enrollment_answer_refused", "host": "\(hostName)", "reason": "\(error)"])
                throw ExitCode(3)
            }
            try StateFile.write(certificate.pem(), to: state.certificatePath, mode: 0o644)
            try StateFile.write(bundle.map { try $0.pem() }.joined(), to: state.caPath, mode: 0o644)
            print("enrolled as \(hostName): \(state.certificatePath)")
            deleteCredential(credentialFile)
        case .pending(let message):
            print("key SHA-256 \(request.keyFingerprint)")
            print(message)
            throw ExitCode(75)
        }
    }

    /// The certificate this host holds, when it is one the collector would take: from
    /// one of `authorities`, for the key beside it, within its dates.
    private static func enrolled(_ state: AgentState, by authorities: [Certificate]) -> Certificate? {
        guard let certificate = try? Certificate(pem: StateFile.read(state.certificatePath)),
              let key = try? PrivateKey.read(from: state.keyPath, followingLinks: false) else { return nil }
        let now = Int64(time(nil))
        guard authorities.contains(where: certificate.isSigned(by:)), certificate.isFor(key),
              certificate.notBefore <= now, now < certificate.notAfter else { return nil }
        return certificate
    }

    /// Only a host without a certificate needs the secret or token, and a copy left behind
    /// is one more to steal.
    private func deleteCredential(_ path: String) {
        if unlink(path) == 0 {
            print("deleted \(path): enrolled hosts need no \(secretFile != nil ? "secret" : "token")")
        } else if errno != ENOENT {
            printError("enroll: could not delete \(path) (\(String(cString: strerror(errno)))): delete it yourself")
        }
    }
}
