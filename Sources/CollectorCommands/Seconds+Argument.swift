import ArgumentParser
import ConfigFile

/// A duration flag reads as its config key does: `90s`, `15m`, `12h`, `7d`, `2w`, or seconds.
extension Seconds: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}
