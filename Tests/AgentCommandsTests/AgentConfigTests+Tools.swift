import Foundation
import Testing
@testable import AgentCommands
import ConfigFile
import PortwardenModel

/// agent.yaml as configuration-management tools write it: each read to the same settings
/// the hand-written file gives, or refused naming the line and what to write instead.
extension AgentConfigTests {
    /// Ansible: `{{ agent | to_nice_yaml }}` (PyYAML 6, indent 4: keys sorted, lists not
    /// indented, `{}` for no labels, `null` for None, single quotes where needed).
    static let ansibleNice = """
        collector: collector.example:8443
        interval: 15m
        labels: {}
        proc_root: /proc
        redact:
        -   --db-pass
        -   '*_LICENSE'
        -   -Dacme.seed
        server_name: null
        spool:
            max_bytes: 104857600
            max_count: 1000
        state_dir: /var/lib/portwarden-agent

        """

    /// Ansible's `to_yaml` with explicit start and end, labels with a long value PyYAML
    /// wraps (an escaped line break, `\\ ` an escaped space), escapes, and `[]` for no list.
    static let ansibleWrapped = #"""
        ---
        collector: collector.example:8443
        interval: 900
        labels:
          owner: "Zo\xEB \"ops\" team\txxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\
            \ with words wrapped"
          role: web
          note: a plain value long enough that PyYAML folds it onto the next line at its
            eightieth column
        redact: []
        server_name: ~
        ...

        """#

    /// Puppet (stdlib `to_yaml`) and Chef (`node['portwarden'].to_hash.to_yaml`): Ruby's
    /// Psych — `---`, `key:` with nothing for nil, double quotes, CRLF from a Windows template.
    static let ruby = "---\r\ncollector: \"collector.example:8443\"\r\ninterval: 15m \r\nlabels:\r\n  \"role\": 'web'\r\n"
        + "  site: \"fra-2\"\r\nredact:\r\n- \"--db-pass\"\r\n- \"*_LICENSE\"\r\nserver_name:\r\nspool:\r\n  max_count: 1000\r\n"

    /// Older Ansible (`default_flow_style=None`): innermost collections in flow style.
    static let flow = """
        collector: collector.example:8443
        labels: {role: web, site: 'fra-2', empty: }
        redact: [--db-pass, '*_LICENSE',
          -Dacme.seed]
        spool: {max_count: 1000}

        """

    @Test func ansibleToNiceYAMLIsRead() throws {
        let file = try config(Self.ansibleNice)
        #expect(file.collector == ["collector.example:8443"] && file.serverName == nil && file.interval == Seconds(900))
        #expect(file.labels.isEmpty && file.redact == ["--db-pass", "*_LICENSE", "-Dacme.seed"])
        #expect(file.spoolMaxCount == 1000 && file.spoolMaxBytes == 104_857_600 && file.stateDir == "/var/lib/portwarden-agent")
    }

    @Test func wrappedQuotedAndFoldedValuesAreJoinedAsYAMLSays() throws {
        let file = try config(Self.ansibleWrapped)
        #expect(file.labels["owner"] == "Zoë \"ops\" team\t" + String(repeating: "x", count: 75) + " with words wrapped", "\(file.labels)")
        #expect(file.labels["note"] == "a plain value long enough that PyYAML folds it onto the next line at its eightieth column")
        #expect(file.labels["role"] == "web" && file.labels.count == 3)
        #expect(file.redact.isEmpty && file.serverName == nil && file.interval == Seconds(900))
    }

    @Test func rubyToYAMLWithCRLFIsRead() throws {
        let file = try config(Self.ruby)
        #expect(file.collector == ["collector.example:8443"] && file.interval == Seconds(900) && file.serverName == nil)
        #expect(file.labels == ["role": "web", "site": "fra-2"], "\(file.labels)")
        #expect(file.redact == ["--db-pass", "*_LICENSE"] && file.spoolMaxCount == 1000)
    }

    @Test func flowCollectionsOfScalarsAreRead() throws {
        let file = try config(Self.flow)
        #expect(file.labels == ["role": "web", "site": "fra-2"], "a null label is no label: \(file.labels)")
        #expect(file.redact == ["--db-pass", "*_LICENSE", "-Dacme.seed"] && file.spoolMaxCount == 1000)
        #expect(try config("labels: []\nredact: {}\n").labels.isEmpty, "an empty list where a mapping was meant is no labels")
        #expect(try config("\u{FEFF}# saved by Notepad\ninterval: 60\t# a tab before the comment\n").interval == Seconds(60))
    }

    /// What it cannot read, it refuses where it is written, saying what to write instead.
    @Test(arguments: [
        ("labels: !ruby/hash:Chef::Node::ImmutableMash\n  role: web\n", 1, "to_hash"),
        (":interval: 60\n", 1, "Ruby symbol key"),
        ("labels:\n  - role\n", 2, "labels is a mapping"),
        ("labels: {role: {a: b}}\n", 1, "inside another"),
        ("redact: [a, b\n", 1, "not closed"),
        ("interval: 60\n...\ncollector: x:1\n", 3, "document's end"),
        ("interval: 60\n---\ncollector: x:1\n", 2, "one document per file"),
        ("labels:\n\trole: web\n", 2, "not tabs"),
        ("interval: 1 day\n", 1, "a duration such as"),
        ("labels: {role: web} extra\n", 1, "after \"}\""),
    ])
    func refusedWithTheLineAndWhatToDo(text: String, line: Int, message: String) {
        do {
            _ = try config(text)
            Issue.record("accepted: \(text)")
        } catch let error as ConfigError {
            #expect(error.line == line && error.message.contains(message), "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
