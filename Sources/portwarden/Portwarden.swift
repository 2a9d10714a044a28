import ArgumentParser
import CollectorCommands
import EventLog
import Foundation
import Logging
import PortwardenModel

/// The entry point: argument-parser's async main for the collector's command tree, with
/// one change: every error — bad input, or a failure in run — exits 2 with its reason on
/// stderr, as cron-driven reports and `policy check` promise (argument-parser would use
/// 64 and 1). Exit codes a command chooses (`--fail-on`'s 1) pass through.
@main
struct Portwarden {
    static func main() async {
        LoggingSystem.bootstrap(EventLogHandler.standardError)
        var command: any ParsableCommand
        do {
            command = try CollectorCommand.parseAsRoot()
        } catch {
            // Usage errors name the subcommand and show its usage.
            exit(error, message: CollectorCommand.fullMessage(for: error))
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // A check in run(): the message alone.
            exit(error, message: "Error: \(CollectorCommand.message(for: error))")
        }
    }

    static func exit(_ error: any Error, message: String) -> Never {
        if error is ExitCode || CollectorCommand.exitCode(for: error) == .success { CollectorCommand.exit(withError: error) }
        // An error can quote what a host sent (a snapshot's keys): its controls shown escaped.
        FileHandle.standardError.write(Data((VisibleText.escaped(message, keepingLineBreaks: true) + "\n").utf8))
        CollectorCommand.exit(withError: ExitCode(2))
    }
}
