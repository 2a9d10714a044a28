import ArgumentParser

/// The exit statuses both executables use, and only these (docs/OPERATIONS.md, "Exit
/// status"): a cron line or a configuration tool can tell "look at this" from "fix the
/// command" from "the machine is wrong" from "run it again later".
public enum ExitStatus: Int32, CaseIterable, Sendable {
    case ok = 0
    /// The checked condition failed: findings at or above --fail-on, a policy test
    /// failed, a snapshot set aside.
    case conditionFailed = 1
    /// A usage or input error: a flag, a value, a file the command was given.
    case usage = 2
    /// The command could not do its job: an unusable database, a full disk, /proc
    /// unreadable, refused for good.
    case failed = 3
    /// Try again later (EX_TEMPFAIL): nothing is lost by running it again.
    case tryAgainLater = 75
}

extension ExitCode {
    public init(_ status: ExitStatus) { self.init(status.rawValue) }
}

/// An error that knows which exit status it means. Errors that do not say are usage or
/// input errors (2): most of what a command refuses is what it was given.
public protocol ExitStatusError: Error {
    var exitStatus: ExitStatus { get }
}

/// An error that ends a command with `status` and says `message`.
public struct CommandFailure: ExitStatusError, CustomStringConvertible {
    public let exitStatus: ExitStatus
    public let message: String

    public init(_ status: ExitStatus, _ message: String) {
        exitStatus = status
        self.message = message
    }

    public var description: String { message }
}
