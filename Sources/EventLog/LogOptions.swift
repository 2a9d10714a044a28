import ArgumentParser
import Logging

/// `--log-format` and `--log-level`, the same on every command of both executables that
/// logs. The executable parses its command first and then bootstraps the log from these
/// (`bootstrap(for:)`), once: a handler made before the flags were read would ignore them.
public struct LogOptions: ParsableArguments, Sendable {
    @Option(help: ArgumentHelp("How each log line on stderr is written: text (key=value) or json (one object a line).",
                               valueName: "text|json"))
    public var logFormat: LogFormat = .text

    @Option(help: ArgumentHelp("The least severe events logged: trace, debug, info, notice, warning, error, critical "
                               + "(debug adds one line per unchanged report).", valueName: "level"))
    public var logLevel: Logger.Level = .info

    public init() {}

    /// Installs the handler: standard error, in `format`, from `level` on. Once per process.
    public static func bootstrap(format: LogFormat = .text, level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in
            var handler = EventLogHandler.standardError(label: label, format: format)
            handler.logLevel = level
            return handler
        }
    }

    /// Bootstraps with the options `command` was given, or the defaults for a command
    /// that takes none (an unparsed `LogOptions` has no values to read).
    public static func bootstrap(for command: any ParsableCommand) {
        let given = (command as? any LoggingCommand)?.logOptions
        bootstrap(format: given?.logFormat ?? .text, level: given?.logLevel ?? .info)
    }
}

/// A command that takes `--log-format` and `--log-level` (`@OptionGroup var logOptions: LogOptions`).
public protocol LoggingCommand {
    var logOptions: LogOptions { get }
}

extension LogFormat: ExpressibleByArgument {}

extension Logger.Level: @retroactive ExpressibleByArgument {}
