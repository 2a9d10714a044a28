import ArgumentParser
import PortwardenModel

/// `portwarden`: the collector and the fleet's admin commands.
@available(macOS 10.15, *)
public struct CollectorCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "portwarden",
        abstract: "Fleet compliance for listening ports: the collector and its admin commands.",
        discussion: """
            Agents (portwarden-agent) scan each host's listeners and report them here over \
            mutual TLS; the collector keeps their history, evaluates the policies in \
            Policies/, and produces trend reports and exports of unexpected legacy-port \
            exposure.

            Start here: `portwarden ca init` makes the fleet CA and the collector's \
            certificate; `portwarden enroll sign` issues a host's certificate from its CSR; \
            `portwarden serve` accepts reports. To see one host's listeners now: \
            portwarden-agent scan

            Exit status, every subcommand: 0 ok; 1 the checked condition failed (--fail-on, \
            a policy test); 2 a usage or input error (a flag, a value, a file, the config); \
            3 could not do the job (the database missing, from another release, unreadable, \
            the disk full); 75 try again later (the database busy). See docs/OPERATIONS.md.
            """,
        version: PortwardenVersion.current,
        subcommands: [Serve.self, CA.self, Enroll.self, Hosts.self, PolicyCommand.self, Report.self, Export.self, Audit.self,
                      DB.self])

    public init() {}
}
