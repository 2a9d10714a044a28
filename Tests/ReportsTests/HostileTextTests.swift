import Findings
import CollectorStore
import Foundation
import Policy
import PortwardenModel
import PortwardenTestSupport
@testable import Reports
import Testing

/// Text from an audited host in every output a report has: a process named like a
/// formula, a script for an exe, a link for a user and a label, terminal escapes in a
/// command line, a bidi override in a unit and a newline in the host's name (issue 11).
struct HostileTextTests {
    /// The hostile host reported on 10-21 and 10-31, stored through ingest under the
    /// shipped policy: its 557/tcp is an open critical finding.
    struct History {
        let database: CollectorDatabase
        let directory: String

        init() throws {
            let policy: PolicySet
            (directory, policy) = try FleetHistory.policyInTemporaryDirectory()
            database = try CollectorDatabase.open(path: directory + "/portwarden.sqlite")
            for (sequence, day) in [(UInt64(1), "21"), (2, "31")] {
                let at = "2026-10-\(day)T09:00:00Z"
                _ = try database.ingest(HostileText.snapshot(sequence: sequence, collectedAt: at), host: HostileText.hostName,
                                        bodyDigest: at, receivedAt: Timestamp.seconds(rfc3339: at)!, findings: policy.findingEvaluator)
            }
        }

        func trend() throws -> TrendReport {
            try TrendReport.compute(
                spans: FindingSpan.stored(in: database, window: FleetHistory.window), database: database,
                grid: DayGrid(window: FleetHistory.window), window: FleetHistory.window, grouping: .rule, why: RuleTexts(),
                tags: { _ in [] }, staleAfter: 86_400, now: FleetHistory.until)
        }

        func host() throws -> HostReport {
            try HostReport(database: database, host: HostileText.hostName, tags: [], why: RuleTexts(), staleAfter: 86_400,
                           now: FleetHistory.until)
        }
    }

    @Test func formulaCellsGetAQuoteAndNumbersStayNumbers() {
        for trigger in ["=", "+", "-", "@", "\t", "\r", "\0"] {
            #expect(Cell.text(trigger + "1+1").csv == "'" + trigger + "1+1", "\(trigger.debugDescription)")
        }
        #expect(Cell.text("a=1").csv == "a=1" && Cell.text("").csv == "")
        #expect(CSV.record([.int(-5), .text("-5"), .bool(false), .time(0), .null]) == "-5,'-5,false,1970-01-01T00:00:00Z,\r\n")
        #expect(CSV.record([.text("=A1,\"x\"")]) == "\"'=A1,\"\"x\"\"\"\r\n", "the quote goes inside RFC 4180's quotes")
        // Behind what a spreadsheet skips or a reader cannot see, and the full-width signs.
        for hidden in [" =1", "\u{A0}=1", "\n=1", "\u{200B}=1", "\u{FEFF}+1", "\u{3000}-1", "\u{FF1D}1+1", "  \u{FF20}x",
                       "\u{1B}=1+2", "\u{202E}=1+2", "\u{85}=1+2"] {
            #expect(Cell.text(hidden).csv == "'" + hidden, "\(hidden.debugDescription)")
        }
        #expect(Cell.text(" a=1").csv == " a=1" && Cell.text("   ").csv == "   ")
        // A semicolon or tab is a separator in some locales: such a cell is quoted whole.
        #expect(CSV.record([.text("x;=cmd|' /C calc'!A0"), .text("a\tb")]) == "\"x;=cmd|' /C calc'!A0\",\"a\tb\"\r\n")
    }

    @Test func markdownCellsAreTextNotMarkup() {
        #expect(Escape.markdown(HostileText.link) == "\\[x\\](javascript:alert(1))")
        #expect(Escape.markdown(HostileText.script) == "&lt;script&gt;alert(1)&lt;/script&gt;")
        #expect(Escape.markdown("![i](http://x/p.png) *a* _b_ `c` ~d~ e|f a&b \\") == "!\\[i\\](http://x/p.png) \\*a\\* \\_b\\_ \\`c\\` \\~d\\~ e\\|f a&amp;b \\\\")
        #expect(Escape.markdown("a\u{1B}[2J\nb\u{202E}") == "a\\\\x1b\\[2J\\\\nb\\\\u202e")
        #expect(Escape.html("\"'<&>\u{202E}") == "&quot;&#39;&lt;&amp;&gt;\\u202e")
        #expect(Escape.terminal("sshd (root)") == "sshd (root)", "plain text is left as it is")
        // A combining accent makes `[` and `"` part of a larger Character; parsers still see them.
        #expect(Escape.markdown("[\u{301}x](javascript:alert(1))").hasPrefix("\\[\u{301}x\\]"))
        #expect(Escape.html("\"\u{301}<\u{301}") == "&quot;\u{301}&lt;\u{301}")
    }

    /// `export findings --format csv` read back by Python's csv module: a formula stays
    /// text, and each owner_* cell has one line per owner, by any reader's idea of a line
    /// (Python's splitlines also breaks at \x0b, \x1c, NEL, U+2028): a carriage return in a
    /// command line is written `\r`, an ESC `\x1b`, so neither passes for a third owner's
    /// line or reaches a terminal that prints the file.
    @Test func exportedCSVCellsThatAreFormulasReadBackQuoted() throws {
        let history = try History()
        defer { try? FileManager.default.removeItem(atPath: history.directory) }
        let text = try python("""
            import csv, sys
            rows = list(csv.DictReader(open(sys.argv[1], newline='')))
            cols = ['owner_names', 'owner_users', 'owner_exes', 'owner_units', 'owner_containers', 'owner_cmdlines']
            breaks = '\\r\\x0b\\x0c\\x1b\\x1c\\x1d\\x1e\\x85\\u2028\\u2029'
            print(len(rows), [len(rows[0][c].split('\\n')) for c in cols], any(b in rows[0][c] for c in cols for b in breaks),
                  repr(rows[0]['owner_names']), repr(rows[0]['owner_cmdlines'].split('\\n')[0]), rows[0]['port'], repr(rows[0]['host']))
            """, try exportFindingsCSV(history.database, in: history.directory))
        #expect(text == "1 [2, 2, 2, 2, 2, 2] False \"'=1+1+cmd|A0\\n[x](javascript:alert(1))\" 'sh -c \\\\x1b]0;owned\\\\x07\\\\x1b[2J\\\\rdone' 557 "
            + "'web-66\\n1999-12-31T00:00:00Z level=critical forged'\n", "\(text)")
    }

    /// The owners in JSON: objects carrying each value exactly, the hostile ones included.
    @Test func exportedJSONOwnersAreObjectsWithTheExactText() throws {
        let history = try History()
        defer { try? FileManager.default.removeItem(atPath: history.directory) }
        let path = history.directory + "/findings.json"
        let output = try ReportOutput(path: path)
        try Exporter(database: history.database, staleAfter: 86_400)
            .export(.findings, window: FleetHistory.window, now: FleetHistory.until, format: .json, output: output)
        try output.commit()
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let rows = try #require(document["rows"] as? [[String: Any]])
        let owners = try #require(rows.first?["owners"] as? [[String: Any]], "\(rows)")
        #expect(owners.map { $0["name"] as? String } == HostileText.owners.map(\.name))
        #expect(owners.map { $0["cmdline"] as? [String] } == HostileText.owners.map(\.cmdline))
        #expect(owners.map { $0["container"] as? String } == HostileText.owners.map(\.container))
        #expect(owners[1]["user"] as? String == HostileText.owners[1].user)
    }

    @Test func markdownHoldsNoRawHTMLLinkOrControl() throws {
        let history = try History()
        defer { try? FileManager.default.removeItem(atPath: history.directory) }
        for markdown in [try history.trend().markdown(), try history.host().markdown()] {
            #expect(!markdown.contains("<script"), "\(markdown)")
            let unescaped = markdown.replacing("\\[", with: "").replacing("\\]", with: "")
            #expect(!unescaped.contains("[") && !unescaped.contains("]"), "no link, no image: \(markdown)")
            #expect(HostileText.rawControls(in: markdown).isEmpty, "\(HostileText.rawControls(in: markdown)): \(markdown)")
            #expect(markdown.contains("&lt;script&gt;") && markdown.contains("\\\\u202e\\\\x1b\\[31m"), "shown, not dropped: \(markdown)")
            for row in markdown.split(separator: "\n") where row.hasPrefix("|") {
                #expect(row.hasSuffix("|"), "a cell never splits a row: \(row)")
            }
        }
    }

    @Test func tablesHoldNoRawControl() throws {
        let history = try History()
        defer { try? FileManager.default.removeItem(atPath: history.directory) }
        for table in [try history.trend().table(), try history.host().table()] {
            #expect(HostileText.rawControls(in: table).isEmpty, "\(HostileText.rawControls(in: table)): \(table)")
            #expect(table.contains("web-66\\n1999-12-31"), "the newline shown escaped: \(table)")
        }
        let host = try history.host().table()
        #expect(host.contains("=1+1+cmd|A0 (root), [x](javascript"), "shown, not dropped: \(host)")
    }

    @Test func htmlHoldsNoRawScriptOrControl() throws {
        let history = try History()
        defer { try? FileManager.default.removeItem(atPath: history.directory) }
        for html in [try history.trend().html(), try history.host().html()] {
            #expect(!html.contains("<script") && html.contains("&lt;script&gt;"), "\(html)")
            #expect(HostileText.rawControls(in: html).isEmpty, "\(HostileText.rawControls(in: html))")
        }
    }

    /// JSON keeps the text exactly (it is data for programs) but can never break a line.
    @Test func jsonKeepsTheTextExactly() throws {
        let history = try History()
        defer { try? FileManager.default.removeItem(atPath: history.directory) }
        let json = try history.host().json()
        #expect(!json.contains(0x0A) || json.firstIndex(of: 0x0A) == json.count - 1, "one line")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(document["host"] as? String == HostileText.hostName)
    }
}
