import ArgumentParser
import EventLog
import Glibc
import Logging
import PortwardenModel
import StateFiles

/// The entry point both executables share: argument-parser's parse and run, with the
/// house's exit statuses instead of its own (64 for usage, 1 for any other error).
public enum CommandMain {
    /// Parses the command line; on a usage error (or --help, --version) prints it and exits.
    public static func parse<Root: ParsableCommand>(_ root: Root.Type) -> any ParsableCommand {
        do {
            return try Root.parseAsRoot()
        } catch {
            // Usage errors name the subcommand and show its usage, over several lines.
            exit(root, error, message: VisibleText.escaped(Root.fullMessage(for: error), keepingLineBreaks: true),
                 classify: { _ in nil })
        }
    }

    /// Runs a parsed command and exits with its status. `classify` names the status of
    /// errors from libraries this module cannot see (the collector's database), and
    /// `describe` says such an error in an operator's words instead of the library's.
    public static func run<Root: ParsableCommand>(_ root: Root.Type, _ command: any ParsableCommand,
                                                  classify: (any Error) -> ExitStatus? = { _ in nil },
                                                  describe: (any Error) -> String? = { _ in nil }) -> Never {
        var running = command
        do {
            try running.run()
        } catch {
            fail(root, command, error, classify: classify, describe: describe)
        }
        Root.exit()
    }

    public static func run<Root: ParsableCommand>(_ root: Root.Type, _ command: any ParsableCommand,
                                                  classify: @Sendable (any Error) -> ExitStatus? = { _ in nil },
                                                  describe: @Sendable (any Error) -> String? = { _ in nil }) async -> Never {
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var running = command
                try running.run()
            }
        } catch {
            fail(root, command, error, classify: classify, describe: describe)
        }
        Root.exit()
    }

    /// A failure in run(): the message alone, on one line — it can quote what a host sent
    /// (a snapshot file's keys), so its controls and line breaks are shown escaped. A
    /// command logging JSON (`--log-format json`: a service under a log shipper) says it
    /// as one more JSON event, `command_failed`, so the line that says why it stopped
    /// parses like the others.
    static func fail<Root: ParsableCommand>(_ root: Root.Type, _ command: any ParsableCommand, _ error: any Error,
                                            classify: (any Error) -> ExitStatus?, describe: (any Error) -> String?) -> Never {
        let said = describe(error) ?? Root.message(for: error)
        if (command as? any LoggingCommand)?.logOptions.logFormat == .json, !(error is ExitCode), Root.exitCode(for: error) != .success {
            let status = status(of: error, classify: classify)
            Logger(label: Root.configuration.commandName ?? "portwarden")
                .error("\(said)", metadata: ["event": "command_failed", "exit_status": "\(status.rawValue)"])
            Root.exit(withError: ExitCode(status))
        }
        exit(root, error, message: "Error: " + VisibleText.escaped(said), classify: classify)
    }

    static func exit<Root: ParsableCommand>(_ root: Root.Type, _ error: any Error, message: String,
                                            classify: (any Error) -> ExitStatus?) -> Never {
        // ExitCode (a command's own status, already said) and --help/--version pass through.
        if error is ExitCode || Root.exitCode(for: error) == .success { Root.exit(withError: error) }
        let bytes = Array((message + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        Root.exit(withError: ExitCode(status(of: error, classify: classify)))
    }

    /// The status an error means: its own, else `classify`'s, else a full disk's 3, else 2.
    public static func status(of error: any Error, classify: (any Error) -> ExitStatus? = { _ in nil }) -> ExitStatus {
        if let known = error as? any ExitStatusError { return known.exitStatus }
        if let classified = classify(error) { return classified }
        if isDiskFull(error) { return .failed }
        return .usage
    }

    /// Whether `error` is a write that found no room. Every writer here (StateFile, a
    /// report's output) ends its message with the system's own words for it, so that is
    /// what is looked for — in whichever module the error comes from.
    static func isDiskFull(_ error: any Error) -> Bool {
        let message = (error as? StateFile.Failed)?.reason ?? String(describing: error)
        return [ENOSPC, EDQUOT].contains { message.hasSuffix(String(cString: strerror($0))) }
    }
}
