import AgentCommands
import CLinuxShims
import CommandConventions
import EventLog
import Logging

// One malloc arena: the scan's two worker threads are short-lived, and a second arena
// would cost the agent a few hundred KiB of its 12 MiB budget.
_ = pw_single_malloc_arena()
LoggingSystem.bootstrap(EventLogHandler.standardError)
let command = CommandMain.parse(AgentCommand.self)
CommandMain.run(AgentCommand.self, command, classify: AgentCommand.exitStatus(of:))
