import ArgumentParser
import Foundation
import Policy

extension PolicyCommand {
    /// `portwarden policy check`
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check policy files and print every problem as file:line:column.",
            discussion: """
                Checks the rules, the catalogue, the inventory, the waivers and the test \
                cases: YAML, fields, conditions (down to the word at fault), rule ids that \
                waivers and tests name. Warns about waivers that expired or expire within 14 \
                days. Give FILES to check only those (a file under a tests/ folder is read \
                as test cases); without them the whole policy directory is checked. Exit \
                status: 0 when there is no error (warnings allowed), 2 when there is one.
                """)

        @OptionGroup var state: StateOptions
        @OptionGroup var options: PolicyOptions

        @Argument(help: ArgumentHelp("Policy files to check instead of the whole directory.", valueName: "file"))
        var files: [String] = []

        func run() throws {
            let sources: [PolicySource]
            let what: String
            if files.isEmpty {
                what = try options.directory(state)
                do { sources = try PolicySource.read(directory: what) } catch {
                    throw ValidationError("cannot read the policy directory \(what): \(error.localizedDescription)")
                }
            } else {
                what = files.joined(separator: ", ")
                sources = try files.map { file in
                    guard let data = FileManager.default.contents(atPath: file) else {
                        throw ValidationError("cannot read \(file)")
                    }
                    let url = URL(fileURLWithPath: file)
                    let folder = url.deletingLastPathComponent().lastPathComponent
                    return PolicySource(path: folder == "tests" ? "tests/\(url.lastPathComponent)" : url.lastPathComponent,
                                        displayPath: file, bytes: Array(data))
                }
            }
            let assigned = (try? existingHistory(state)?.assignedTags()) ?? []
            let load = PolicySet.load(sources, today: Day(Date()), assignedTags: assigned)
            for diagnostic in load.diagnostics { print(diagnostic) }
            guard let policy = load.policy else {
                print("\(what): \(counted(load.errors.count, "error")), \(counted(load.warnings.count, "warning"))")
                throw ExitCode(2)
            }
            print("\(what): ok — \(counted(policy.rules.count, "rule")), \(counted(policy.catalog.entries.count, "catalogue port")), "
                + "\(counted(policy.inventory.entries.count, "inventory entry", "inventory entries")), "
                + "\(counted(policy.waivers.count, "waiver")), \(counted(policy.tests.count, "test case")); "
                + "\(counted(load.warnings.count, "warning")); version \(policy.digest.prefix(12))")
        }
    }
}
