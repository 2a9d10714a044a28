import CollectorCommands
import CollectorServer
import CollectorStore
import CommandConventions
import EventLog

/// The entry point: the collector's command tree with the house's exit statuses
/// (CommandMain): 2 for bad input, 3 for a database the command cannot use, 75 for one
/// another writer held too long or a listening address in use; a command's own status (`--fail-on`'s 1) passes through.
@main
struct Portwarden {
    static func main() async {
        let command = CommandMain.parse(CollectorCommand.self)
        // After parsing, so the log takes the command's --log-format and --log-level.
        LogOptions.bootstrap(for: command)
        await CommandMain.run(CollectorCommand.self, command) { error in
            if let listen = error as? ListenFailed { return listen.addressInUse ? .tryAgainLater : .usage }
            return switch DatabaseFailure(error) {
            case .unusable: .failed
            case .busy: .tryAgainLater
            case nil: nil
            }
        } describe: { error in
            DatabaseFailure.explanation(of: error)
        }
    }
}
