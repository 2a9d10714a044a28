import AgentCommands
import CLinuxShims
import CommandConventions
import EventLog

// One malloc arena: the scan's two worker threads are short-lived, and a second arena
// would cost the agent a few hundred KiB of its 12 MiB budget.
_ = pw_single_malloc_arena()
let command = CommandMain.parse(AgentCommand.self)
// After parsing, so the log takes the command's --log-format and --log-level.
LogOptions.bootstrap(for: command)
CommandMain.run(AgentCommand.self, command, classify: AgentCommand.exitStatus(of:))
