import ArgumentParser
import CollectorStore
import Foundation
import Policy
import Reports

extension Report {
    /// `portwarden report host HOST`
    struct HostCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "host",
            abstract: "One host: what it listens on now, its findings and their history.")

        @OptionGroup var state: StateOptions
        @OptionGroup var out: ReportOutputOptions

        @Argument(help: "The host's name, as in its certificate.")
        var host: String

        func run() throws {
            let now = Int64(Date().timeIntervalSince1970)
            let database = try openHistory(state)
            let host = try hostArgument(self.host, database)  // `WEB-01.` is web-01, as the hosts commands read it
            let report: HostReport
            do {
                // Rule texts and tags as the collector recorded them, whatever directory this runs in.
                report = try HostReport(database: database, host: host, policies: PolicyHistory(database: database),
                                        staleAfter: try state.file().staleAfterSeconds, now: now)
            } catch { throw ValidationError("\(error)") }
            try out.emit(report, what: "the report on \(host)")
            if let threshold = out.failOn,
               report.findings.contains(where: { $0.closed == nil && !$0.waived && (Severity(rawValue: $0.severity) ?? .info) >= threshold }) {
                throw ExitCode(1)
            }
        }
    }
}
