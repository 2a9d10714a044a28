import ArgumentParser
import CollectorStore
import Foundation
import PortwardenModel

extension Hosts {
    /// `portwarden hosts forget HOST [--reason TEXT]`
    struct Forget: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire a host: revoke its certificates, close what it listened on, leave it out of coverage.",
            discussion: """
                For a host taken out of service. In one transaction: every certificate of HOST \
                is revoked, its open listener and finding intervals close as retired (reports \
                show them so, never as resolved or fixed), the host is marked retired (when, \
                who, --reason) and it is audited. From then on it counts in no coverage, and \
                `hosts list` shows it only with --all. Its history, certificate history and \
                tags are kept: since the name has held a certificate, enrolling under it again \
                waits for `portwarden enroll approve`. Once approved, its next report starts a \
                new life (reporting again, new intervals); the retired history stays as it was. \
                HOST is read in normal form (WEB-01. is web-01).
                """)

        @OptionGroup var state: StateOptions

        @Argument(help: "The host's name, as in its certificate.")
        var host: String

        @Option(help: "Why it is retired (kept with the host and in the audit).")
        var reason: String?

        func run() throws {
            let database = try openHistory(state)
            let name = try hostArgument(host, database)
            guard let retired = try database.retire(host: name, at: nowSeconds, by: Operator.current, reason: reason) else {
                throw ValidationError("""
                    no host named \(name) has reported or held a certificate: `portwarden hosts list --all` shows every \
                    host, retired ones included
                    """)
            }
            let serials = retired.revokedSerials
            print(retired.alreadyRetired ? "\(name) was retired already, at \(Timestamp.rfc3339(retired.at)); kept as it was"
                  : "retired \(name) at \(Timestamp.rfc3339(retired.at))")
            print("  certificates revoked: \(serials.count)" + (serials.isEmpty ? "" : " (\(serials.joined(separator: ", ")))"))
            print("  intervals closed as retired: \(retired.listenersClosed) listener, \(retired.findingsClosed) finding")
            if !retired.hadReported { print("  it had never reported: only its certificates were revoked") }
        }
    }
}
