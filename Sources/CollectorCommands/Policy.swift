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
            The policy directory: --policies, else `policies:` in --config, else \
            /etc/portwarden/policies when it exists — the same as serve's. See \
            Policies/README.md for the rule language. Exit status 2 means the input (a \
            policy, a flag, a file) was wrong.
            """,
        subcommands: [Check.self, Test.self, Eval.self, Replay.self])
}

/// Where a command finds its policy, and loading it with every problem shown.
struct PolicyOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The policy directory (default: the config's `policies`, else \(PolicyOptions.installed) if it exists).",
                               valueName: "dir"))
    var policies: String?

    func directory(_ state: StateOptions) throws -> String {
        if let policies { return policies }
        if let found = Self.defaultDirectory(try state.file()) { return found }
        throw ValidationError("no policy directory: give --policies DIR (Policies/ in the source is the shipped set), "
                              + "or set `policies:` in --config; \(Self.installed) does not exist")
    }
}

extension PolicyOptions {
    /// Where the packages install the shipped policy.
    static let installed = "/etc/portwarden/policies"

    /// The one default, for `serve` and the `policy` commands alike, so that both read the
    /// same rules: the config's `policies`, else `installed` when it exists. Never the
    /// working directory, which differs between a shell and a unit.
    static func defaultDirectory(_ file: CollectorConfig) -> String? {
        file.policies ?? (FileManager.default.fileExists(atPath: installed) ? installed : nil)
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
    // A PostgreSQL database is a server's, not a file to look for: it must be there.
    guard PostgresTarget.isPostgres(path) || FileManager.default.fileExists(atPath: path) else { return nil }
    return try HistoryStores.existing(path)
}

/// `1 waiver`, `2 waivers`: a count and its noun, in the number the count asks for.
func counted(_ count: Int, _ singular: String, _ plural: String? = nil) -> String {
    "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// `--format table|json`.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}
