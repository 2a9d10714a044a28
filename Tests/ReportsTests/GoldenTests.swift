import CollectorStore
import Foundation
import Reports
import Testing

/// Each format of each report, on the fixed history, against a file under Golden/.
/// `PW_UPDATE_GOLDEN=1 swift test --filter GoldenTests` rewrites them; read the diff.
@Suite(.serialized)
struct GoldenTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden").path

    func expectGolden(_ name: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = Self.goldenDirectory + "/" + name
        if ProcessInfo.processInfo.environment["PW_UPDATE_GOLDEN"] == "1" {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == expected, "\(name) differs from its golden file; PW_UPDATE_GOLDEN=1 rewrites it", sourceLocation: sourceLocation)
    }

    @Test func trendInEveryFormat() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        let report = try fleet.trend()
        try expectGolden("trend.txt", report.table())
        try expectGolden("trend.md", report.markdown())
        try expectGolden("trend.csv", report.csv())
        try expectGolden("trend.json", String(decoding: report.json(), as: UTF8.self))
        try expectGolden("trend.html", report.html())
        try expectGolden("trend-by-rule.json", String(decoding: try fleet.trend(grouping: .rule).json(), as: UTF8.self))
        try expectGolden("trend-by-tag.txt", try fleet.trend(grouping: .tag).table())
        for line in report.table().split(separator: "\n") {
            #expect(line.count <= 100, "fits a 100-column terminal: \(line)")
        }
    }

    /// The story the fixture tells, checked as facts rather than bytes.
    @Test func trendFacts() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        let report = try fleet.trend()
        let day = { (label: String) in report.days.first { $0.day.label == label }! }
        #expect(day("2026-10-20").hostsExposed == 1, "db-02's 111")
        #expect(day("2026-10-21").hostsExposed == 2, "and web-01's 557")
        #expect(day("2026-10-23").newFindings == 1 && day("2026-10-23").resolvedFindings == 1, "512 opened and resolved the same day")
        #expect(day("2026-10-22").waivedOpen == 1 && day("2026-10-26").waivedOpen == 0, "the waiver lapsed after 10-25")
        #expect(day("2026-10-26").hostsExposed == 3, "lab-03's 55 is live again by itself")
        #expect(day("2026-10-27").resolvedFindings == 1, "web-01's 557 closed")
        #expect(day("2026-10-31").hostsReporting == 3 && day("2026-10-24").hostsReporting == 4, "db-02 went silent")
        #expect(report.coverage.hosts == 4 && report.coverage.reporting == 3 && report.coverage.stale == 1)
        #expect(report.staleHosts == ["db-02"])
        #expect(!report.openFindings.contains { $0.span.host == "vms-01" }, "OpenVMS may listen on 557")
        #expect(report.timeToResolve.count == 2)
    }

    /// Local days across the end of daylight saving (Berlin, 2026-10-25: 25 hours).
    @Test func localDaysAcrossADaylightSavingChange() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        let report = try fleet.trend(zone: "Europe/Berlin")
        let long = report.days.first { $0.day.label == "2026-10-25" }!
        #expect(long.day.end - long.day.start == 25 * 3600)
        #expect(report.days.filter { $0.day.label != "2026-10-25" && $0.day.label != "2026-10-19" }
            .allSatisfy { $0.day.end - $0.day.start == 86_400 })
        try expectGolden("trend-berlin.md", report.markdown())
    }

    @Test func hostReport() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        let report = try HostReport(database: fleet.database, host: "lab-03", tags: [], why: fleet.why, staleAfter: 2 * 86_400,
                                    now: FleetHistory.until)
        try expectGolden("host-lab-03.txt", report.table())
        try expectGolden("host-lab-03.json", String(decoding: report.json(), as: UTF8.self))
        try expectGolden("host-lab-03.csv", report.csv())
        #expect(throws: ReportError.self) {
            try HostReport(database: fleet.database, host: "nobody", tags: [], why: RuleTexts(), staleAfter: 1, now: 0)
        }
    }

    @Test func aStaleHostsListenersAreLastKnownNotNow() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        let report = try HostReport(database: fleet.database, host: "db-02", tags: [], why: fleet.why, staleAfter: 2 * 86_400,
                                    now: FleetHistory.until)
        for text in [report.table(), report.markdown(), report.html()] {
            #expect(!text.contains("Listening now"), "db-02 has been silent since 10-24")
            #expect(text.contains("Last known listeners (as of its last stored report, 2026-10-24T09:00:00Z; may have changed since)"))
            #expect(text.contains("111"), "what it last listened on is still shown")
        }
    }

    @Test func anEmptyHistory() throws {
        let database = try CollectorDatabase.inMemory()
        let report = try TrendReport.compute(
            spans: [], database: database, grid: DayGrid(window: FleetHistory.window), window: FleetHistory.window, grouping: nil,
            why: RuleTexts(), tags: { _ in [] }, staleAfter: 900, now: FleetHistory.until)
        try expectGolden("trend-empty.txt", report.table())
        #expect(report.coverage.hosts == 0 && report.openFindings.isEmpty)
    }
}

/// The findings export in CSV read back by Python's csv module: commas and quotes inside a
/// command line survive the round trip, and its line break is written `\n`, keeping the
/// owner on one line of the cell.
@Test func findingsCSVSurvivesPythonsReader() throws {
    let fleet = try FleetHistory()
    defer { fleet.remove() }
    let text = try python("""
        import csv, sys
        rows = list(csv.DictReader(open(sys.argv[1], newline='')))
        web = [r for r in rows if r['host'] == 'web-01'][0]
        print(len(rows), repr(web['owner_cmdlines']), web['port'], web['closed'])
        """, try exportFindingsCSV(fleet.database, in: fleet.directory))
    #expect(text == "5 'vmsd --banner say \"hi\", then\\\\nwait' 557 2026-10-27T09:00:00Z\n", "\(text)")
}

/// `export findings --format csv` over the fixture's window, into a file in `directory`: its path.
func exportFindingsCSV(_ database: CollectorDatabase, in directory: String) throws -> String {
    let path = directory + "/findings.csv"
    let output = try ReportOutput(path: path)
    try Exporter(database: database, staleAfter: 86_400)
        .export(.findings, window: FleetHistory.window, now: FleetHistory.until, format: .csv, output: output)
    try output.commit()
    return path
}

/// What a Python script printed, given `arguments`.
func python(_ script: String, _ arguments: String...) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return text
}
