import AgentReporting
import ArgumentParser
import CollectorClient
import EventLog
import Glibc
import Logging
import OpenSSLTLS
import PortwardenModel

/// `portwarden-agent renew`: renew this host's certificate when it is due, or now.
struct Renew: ParsableCommand, LoggingCommand {
    static let configuration = CommandConfiguration(
        abstract: "Renew this host's certificate with its current one, when a third of its lifetime is left.",
        discussion: """
            A new key is made here (the old one is never reused) and sent as a CSR over \
            mutual TLS with the current certificate: no secret, no operator. The name stays \
            the certificate's. The new key and certificate replace the old pair only once \
            both are on disk; the collector accepts the old certificate until the new one \
            is first used. Not due yet: says when it will be, exit 0. `run` renews on its \
            own, each cycle, when due. After `portwarden hosts revoke`, or once the \
            certificate has expired, renewal is refused: enroll again. With several \
            collectors each is asked in turn, as `enroll` does, until one answers.

            Exit status: 0 renewed, or not due; 75 no answer (the collector unreachable, or \
            closing the connection at once, as it does for a revoked certificate) or asked \
            to try again later; 3 refused (renewed already, expired, not enrolled), or the answer \
            refused here: the certificate must be for the new key and name, signed by a CA \
            in the bundle handed with it, valid now and for at most 3650 days, and the bundle \
            must keep the CA this connection was trusted by; else nothing is installed.
            """)

    @OptionGroup var collectorOptions: CollectorOptions

    @Flag(help: "Renew now, whatever the certificate's age.")
    var force = false

    @OptionGroup var logOptions: LogOptions

    func run() throws {
        // The outcome is printed on stdout; a failure is a log event on stderr (--log-format).
        let logger = Logger(label: "portwarden.agent.renew")
        let file = try collectorOptions.file()
        let state = collectorOptions.state(file)
        let renewal = Renewal(state: state)
        let current: Certificate
        do {
            try state.prepare()
            current = try renewal.certificate()
        } catch {
            logger.error("renew: \(error)", metadata: ["event": "renewal_failed", "reason": "not_enrolled"])
            throw ExitCode(3)
        }
        if let expired = Renewal.expiry(current) {
            logger.error("renew: \(expired)", metadata: ["event": "certificate_expired",
                                                          "until": "\(Timestamp.rfc3339(current.notAfter))"])
            throw ExitCode(3)
        }
        let due = Renewal.due(current)
        if !force && Int64(time(nil)) < due {
            print("not due: \(state.certificatePath) (serial \(current.serial)) is valid until "
                  + "\(Timestamp.rfc3339(current.notAfter)); renewal is due from \(Timestamp.rfc3339(due)) (--force renews now)")
            return
        }
        do {
            let collectors = try collectorOptions.collectors(file, context: state.clientContext(), name: state.enrolledName(),
                                                             state: state)
            let renewed = try collectors.firstAnswer({ try renewal.renew(through: $0) }, failed: { $0.log(to: logger) })
            print("renewed: \(state.certificatePath) (serial \(renewed.serial)) is valid until \(Timestamp.rfc3339(renewed.notAfter))")
        } catch let refused as TrustRefused {
            logger.error("""
                renew: refused the collector's answer, the current certificate and CA bundle stay: \(refused); \
                is --collector the fleet's collector?
                """, metadata: ["event": "renewal_refused", "reason": "\(refused)"])
            throw ExitCode(3)
        } catch let refused as EnrollmentRefused {
            logger.error("renew: the collector refused (\(refused.status)): \(refused.message)",
                         metadata: ["event": "renewal_refused", "status": "\(refused.status)", "reason": "\(refused.message)"])
            // 202: queued for the collector that signs; the same key asks again later.
            throw ExitCode(refused.status == 202 || refused.status == 429 || refused.status >= 500 ? 75 : 3)
        } catch let failed as RequestFailed {
            logger.error("""
                renew: not renewed now: \(failed); the current certificate stays in use, try again later (a collector \
                that closes the connection at once may have revoked this certificate, or no longer trust its CA: then \
                enroll again)
                """, metadata: ["event": "renewal_failed", "reason": "\(failed)"])
            throw ExitCode(75)
        }
    }
}

func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
