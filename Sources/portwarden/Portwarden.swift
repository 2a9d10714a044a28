import ArgumentParser
import CollectorCommands
import CollectorStore
import EventLog
import Foundation
import Logging
import PortwardenModel

/// The entry point: argument-parser's async main for the collector's command tree, with
/// one change: every error — bad input, or a failure in run — exits 2 with its reason on
/// stderr, as cron-driven reports and `policy check` promise (argument-parser would use
/// 64 and 1), but a database the command cannot use, which exits 3 (could not do the
/// job). Exit codes a command chooses (`--fail-on`'s 1) pass through.
@main
struct Portwarden {
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try CollectorCommand.parseAsRoot()
        } catch {
            // Usage errors name the subcommand and show its usage, over several lines.
            exit(error, message: VisibleText.escaped(CollectorCommand.fullMessage(for: error), keepingLineBreaks: true))
        }
        // After parsing, so the log takes the command's --log-format and --log-level.
        LogOptions.bootstrap(for: command)
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // A check in run(): the message alone, on one line — it can quote what a host
            // sent (a snapshot file's keys), so its controls and line breaks are shown escaped.
            exit(error, message: "Error: " + VisibleText.escaped(CollectorCommand.message(for: error)))
        }
    }

    static func exit(_ error: any Error, message: String) -> Never {
        if error is ExitCode || CollectorCommand.exitCode(for: error) == .success { CollectorCommand.exit(withError: error) }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        CollectorCommand.exit(withError: ExitCode(error is DatabaseUnusable ? 3 : 2))
    }
}
