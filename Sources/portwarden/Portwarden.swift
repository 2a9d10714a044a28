import ArgumentParser
import CollectorCommands
import Logging

/// The entry point: argument-parser's async main for the collector's command tree.
@main
struct Portwarden: AsyncMainProtocol {
    typealias Command = CollectorCommand

    static func main() async {
        LoggingSystem.bootstrap(StreamLogHandler.standardError)
        await Command.main()
    }
}
