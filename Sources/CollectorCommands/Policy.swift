import ArgumentParser
import CollectorStore
import Foundation
import Policy
import PortwardenModel

/// `portwarden policy …`
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Check, test and try the rules in a policy directory (Policies/).",
        discussion: """
            The policy directory: --policies, else `policies:` in --config, else Policies in \
            the current directory. See Policies/README.md for the rule language. Exit status \
            2 means the input (a policy, a flag, a file) was wrong.
            """,
        subcommands: [Check.self, Test.self, Eval.self, Replay.self])
}

/// Where a command finds its policy, and loading it with every problem shown.
struct PolicyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The policy directory (default: the config's `policies`, else ./Policies).", valueName: "dir"))
    var policies: String?

    func directory(_ state: StateOptions) throws -> String {
        if let policies { return policies }
        if let found = try Self.defaultDirectory(state) { return found }
        throw ValidationError("no policy directory: give --policies DIR, set `policies:` in --config, or run where Policies/ is")
    }
}

extension PolicyOptions {
    /// Without --policies: the config's `policies`, else ./Policies when it exists.
    static func defaultDirectory(_ state: StateOptions) throws -> String? {
        if let configured = try state.file().policies { return configured }
        return FileManager.default.fileExists(atPath: "Policies") ? "Policies" : nil
    }
}

extension PolicySet {
    /// The policy in `directory`, or, when it has errors, those errors on stderr and exit 2.
    /// Warnings go to stderr too.
    static func loadForCommand(directory: String, now: Date, assignedTags: Set<String>) throws -> PolicySet {
        let load: PolicyLoad
        do {
            load = try PolicySet.load(directory: directory, today: Day(now), assignedTags: assignedTags)
        } catch {
            throw ValidationError("cannot read the policy directory \(directory): \(error.localizedDescription)")
        }
        for diagnostic in load.diagnostics { printError(diagnostic.description) }
        guard let policy = load.policy else {
            printError("\(directory): \(load.errors.count) error\(load.errors.count == 1 ? "" : "s"); run `portwarden policy check` for the same list")
            throw ExitCode(2)
        }
        return policy
    }
}

/// The history when there is one; commands that can do without it get nil.
func existingHistory(_ state: StateOptions) throws -> (any HistoryStore)? {
    let path = try state.databasePath()
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    return try HistoryStores.existing(path)
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// `--format table|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}
