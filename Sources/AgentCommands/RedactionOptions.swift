import ArgumentParser
import HostScan

/// `--redact NAME`, for scan and run: more names whose values are secrets, on top of the
/// defaults and the config's `redact:` (docs/wire-format.md, "Redaction").
struct RedactionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Also redact the values of options and variables with this name (repeatable; adds to "
                               + "redact: in --config). * stands for any run of characters; case, dashes, _ and . are "
                               + "ignored, so db-pass covers --db-pass=… and DB_PASS=….", valueName: "name"))
    var redact: [String] = []

    func validate() throws {
        do { _ = try Redaction(adding: redact) } catch { throw ValidationError("--redact \(error)") }
    }

    /// The defaults, the file's names and the flags'; both were checked when read.
    func redaction(_ file: AgentConfig) throws -> Redaction { try Redaction(adding: file.redact + redact) }
}
