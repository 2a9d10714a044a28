import ArgumentParser
import CollectorServer
import CollectorStore
import Findings
import Foundation
import Policy
import PortwardenModel
import Reports

extension PolicyCommand {
    /// `portwarden policy eval`
    struct Eval: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The findings for one snapshot file, or for what a stored host listens on now.",
            discussion: """
                --snapshot FILE evaluates a snapshot in the wire format (what \
                `portwarden-agent scan --format json` prints; - reads stdin). --host HOST \
                evaluates the host's open listeners in the collector's history. Either way \
                the host's tags are the inventory's with `portwarden hosts tag|untag` applied \
                (when a history exists), and its labels the ones it declared. Waived findings \
                are listed, marked waived.
                """)

        @OptionGroup var state: StateOptions
        @OptionGroup var options: PolicyOptions

        @Option(help: ArgumentHelp("A snapshot file (wire-format JSON), or - for stdin.", valueName: "file"))
        var snapshot: String?

        @Option(help: ArgumentHelp("A host in the collector's history.", valueName: "host"))
        var host: String?

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        func validate() throws {
            guard (snapshot == nil) != (host == nil) else { throw ValidationError("give one of --snapshot FILE or --host HOST") }
        }

        func run() throws {
            let now = Date()
            let history = try existingHistory(state)
            let policy = try PolicySet.loadForCommand(directory: try options.directory(state), now: now,
                                                      assignedTags: (try? history?.assignedTags()) ?? [])
            let subject: FindingSubject
            if let snapshot {
                let data = snapshot == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: snapshot)
                guard let data else { throw ValidationError("cannot read \(snapshot)") }
                let decoded: Snapshot
                do { decoded = try Snapshot(wire: [UInt8](data)) } catch {
                    throw ValidationError("\(snapshot) is not a snapshot: \(error)")
                }
                let name = decoded.host.hostname
                subject = FindingSubject(host: name, listeners: decoded.listeners, tags: try history?.tagEdits(host: name) ?? TagEdits(),
                                         labels: decoded.host.labels ?? [:], at: now)
            } else {
                guard let history, let typed = host, case let host = try hostArgument(typed, history),
                      let record = try history.host(named: host) else {
                    throw ValidationError("no host named \(host ?? "") is in the history at \(try state.shownDatabase())")
                }
                subject = FindingSubject(host: host, listeners: try history.openListeners(host: host).map(\.listener),
                                         tags: try history.tagEdits(host: host), labels: record.labelMap, at: now)
            }
            let tags = policy.tags(for: subject)
            let findings = policy.evaluate(subject)
            switch format {
            case .json:
                // `{"schema": 1, "host", "tags", "policy_version", "findings": [...]}` (docs/reports.md).
                var w = JSONWriter()
                w.beginObject()
                w.key("schema"); w.value(1)
                w.key("host"); w.value(subject.host)
                w.key("tags"); w.value(tags.sorted())
                w.key("policy_version"); w.value(policy.digest)
                w.key("findings"); w.value(findings)
                w.endObject()
                print(String(decoding: w.buffer, as: UTF8.self))
            case .table:
                print(TextLayout.table(["SEVERITY", "RULE", "PROTO", "ADDRESS:PORT", "NETNS", "OWNERS", "WAIVED"],
                                       findings.map(findingRow), width: .max), terminator: "")
                let live = findings.filter { !$0.isWaived }.count
                print("\(VisibleText.escaped(subject.host)) (tags: \(tags.isEmpty ? "none" : tags.sorted().joined(separator: ", "))): "
                    + "\(findings.count) finding\(findings.count == 1 ? "" : "s"), \(live) not waived; policy \(policy.digest.prefix(12))")
            }
        }
    }
}

/// A finding's listener and owners as table cells.
func findingRow(_ finding: Finding) -> [String] {
    let l = finding.listener
    let proto = l.protocolText, endpoint = l.endpointText
    let owners = Set(l.processes.map(\.name)).sorted().joined(separator: ",")
    return [finding.severity.rawValue, finding.rule, proto, endpoint, l.hostNetns ? "host" : String(l.netns),
            owners.isEmpty ? "-" : owners, finding.waiver.map { "until \($0.expires)" } ?? "no"]
}
