import CollectorCommands
import CollectorStore
import CommandConventions
import EventLog
import Logging

/// The entry point: the collector's command tree with the house's exit statuses
/// (CommandMain): 2 for bad input, 3 for a database the command cannot use, 75 for one
/// another writer held too long; a command's own status (`--fail-on`'s 1) passes through.
@main
struct Portwarden {
    static func main() async {
        LoggingSystem.bootstrap(EventLogHandler.standardError)
        let command = CommandMain.parse(CollectorCommand.self)
        await CommandMain.run(CollectorCommand.self, command) { error in
            switch DatabaseFailure(error) {
            case .unusable: .failed
            case .busy: .tryAgainLater
            case nil: nil
            }
        }
    }
}
