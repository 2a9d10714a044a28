import PortwardenModel
import ArgumentParser

/// A duration flag (`--handshake-timeout 10s`) in the syntax config keys use.
extension Seconds: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String { description }
}

extension Seconds {
    /// A duration flag's value (`@Option(transform:)`), or an error that says what one
    /// looks like: ArgumentParser's own says only that the value is invalid.
    public static func argument(_ text: String) throws -> Seconds {
        guard let seconds = Seconds(text) else { throw ValidationError("'\(text)' is not \(syntax)") }
        return seconds
    }
}
