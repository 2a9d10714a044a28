import AgentCommands
import CLinuxShims
import EventLog

// One malloc arena: the scan's two worker threads are short-lived, and a second arena
// would cost the agent a few hundred KiB of its 12 MiB budget.
_ = pw_single_malloc_arena()
// Parsed before the log is set up, so the log takes the command's --log-format and --log-level.
do {
    var command = try AgentCommand.parseAsRoot()
    LogOptions.bootstrap(for: command)
    try command.run()
} catch {
    AgentCommand.exit(withError: error)
}
