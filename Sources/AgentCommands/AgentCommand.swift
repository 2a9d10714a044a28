import AgentReporting
import ArgumentParser
import CollectorClient
import CommandConventions
import PortwardenModel

/// `portwarden-agent`: the part of portwarden that runs on every host.
public struct AgentCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "portwarden-agent",
        abstract: "List this host's listening ports and who owns them, in every network namespace.",
        discussion: """
            Reads /proc only: every TCP socket in LISTEN and every bound, unconnected UDP \
            socket, IPv4 and IPv6, in every network namespace on the host (containers \
            included), with each process holding it. Run as root for complete ownership.

            Exit status, every subcommand: 0 ok; 1 the checked condition failed (a snapshot \
            set aside); 2 a usage or input error (a flag, a value, the config file); 3 could \
            not do the job (/proc unreadable, refused for good); 75 try again later (the \
            collector unreachable or busy, an approval awaited).
            """,
        version: PortwardenVersion.current,
        subcommands: [Scan.self, Run.self, Enroll.self, Renew.self])

    public init() {}
}

extension AgentCommand {
    /// The exit status of the errors the agent's libraries throw (the rest are bad input,
    /// 2): no answer from the collector is worth trying again (75); a refusal, a collector
    /// whose certificate does not verify here, or an answer refused here, is not (3).
    public static func exitStatus(of error: any Error) -> ExitStatus? {
        switch error {
        case let failed as RequestFailed: failed.untrusted ? .failed : .tryAgainLater
        case let refused as EnrollmentRefused: refused.status == 429 || refused.status >= 500 ? .tryAgainLater : .failed
        case is TrustRefused: .failed
        default: nil
        }
    }
}
