import PortwardenModel
import ArgumentParser

/// A duration flag (`--handshake-timeout 10s`) in the syntax config keys use:
/// `@Option(transform: Seconds.argument)`. Not `ExpressibleByArgument`: its failure can
/// only say that the value is invalid, and this says what a duration looks like.
extension Seconds {
    public static func argument(_ text: String) throws -> Seconds {
        guard let seconds = Seconds(text) else { throw ValidationError("'\(text)' is not \(syntax)") }
        return seconds
    }
}
