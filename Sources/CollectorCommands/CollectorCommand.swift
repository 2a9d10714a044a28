import ArgumentParser

/// `portwarden`: the collector and the fleet's admin commands.
public struct CollectorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "portwarden",
        abstract: "Fleet compliance for listening ports: the collector and its admin commands.",
        discussion: """
            Agents (portwarden-agent) scan each host's listeners and report them here over \
            mutual TLS; the collector keeps their history, evaluates the policies in \
            Policies/, and produces trend reports and exports of unexpected legacy-port \
            exposure. The collector's commands (serve, ca, enroll, hosts, policy, report, \
            export) arrive with the issues that build them; today this prints its help.

            To see one host's listeners now: portwarden-agent scan
            """,
        version: "0.1.0")

    public init() {}
}
