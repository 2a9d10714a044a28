import CollectorCommands
import Logging

LoggingSystem.bootstrap(StreamLogHandler.standardError)
CollectorCommand.main()
