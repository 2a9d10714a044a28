import PortwardenModel
import ArgumentParser

/// A duration flag (`--handshake-timeout 10s`) in the syntax config keys use.
extension Seconds: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
    public var defaultValueDescription: String { description }
}
