import ArgumentParser
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
            """,
        version: PortwardenVersion.current,
        subcommands: [Scan.self, Run.self, Enroll.self, Renew.self])

    public init() {}
}
