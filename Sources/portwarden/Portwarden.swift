import ArgumentParser
import CollectorCommands
import Foundation
import Logging

/// The entry point: argument-parser's async main for the collector's command tree, with
/// one change: bad input (a usage or validation error) exits 2, as `policy check` does
/// for a broken policy, rather than argument-parser's 64.
@main
struct Portwarden {
    static func main() async {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
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
        guard CollectorCommand.exitCode(for: error) == .validationFailure else { CollectorCommand.exit(withError: error) }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        CollectorCommand.exit(withError: ExitCode(2))
    }
}
