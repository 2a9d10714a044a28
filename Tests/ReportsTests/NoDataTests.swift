import CollectorStore
import Foundation
import PortwardenModel
import Reports
import Testing

/// Days before the fleet's first report are "no data" in every format, never 0 exposed,
/// and the verdict starts from the first day with data.
struct NoDataTests {
    /// Three days before the fixture's first report (2026-10-20T09:00Z), through its end.
    static let window = TimeWindow(since: Timestamp.seconds(dateOrRFC3339: "2026-10-17")!, until: FleetHistory.until)

    @Test func daysBeforeTheFirstReportAreNoDataInEveryFormatAndTheVerdictStartsAfterThem() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        let report = try fleet.trend(grouping: .rule, window: Self.window)
        #expect(report.days.prefix(3).allSatisfy { !$0.hasData } && report.days.dropFirst(3).allSatisfy(\.hasData))
        #expect(report.days[3].day.label == "2026-10-20", "the day of the first report has data")

        let table = report.table()
        #expect(table.contains("Trend: worse (1 exposed hosts on 2026-10-20, 2 on 2026-10-31; no data before 2026-10-20)"), "\(table)")
        for format in [table, report.markdown(), report.html()] {
            #expect(format.contains("no data"), "\(format)")
        }
        let tableDay = try #require(table.split(separator: "\n").first { $0.hasPrefix("2026-10-17") })
        #expect(tableDay.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).prefix(2) == ["no", "data"], "\(tableDay)")
        #expect(report.markdown().contains("| 2026-10-18 | 0 | no data |"), "\(report.markdown())")

        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json())) as? [String: Any])
        let days = try #require(json["days"] as? [[String: Any]])
        let empty = days[0], first = days[3]
        #expect(empty["data"] as? Bool == false && empty["hosts_exposed"] is NSNull && empty["open_findings"] is NSNull
                && empty["groups"] is NSNull && empty["hosts_reporting"] as? Int == 0, "\(empty)")
        #expect(first["data"] as? Bool == true && first["hosts_exposed"] as? Int == 1, "\(first)")

        let csv = report.csv().split(separator: "\r\n").map(String.init)
        #expect(csv[1].hasPrefix("2026-10-17,0,,,,,,"), "empty, not 0: \(csv[1])")
        #expect(csv[4].hasPrefix("2026-10-20,4,1,"), "\(csv[4])")

        let groupStart = try #require(table.split(separator: "\n").first { $0.hasPrefix("rpc-mapper-exposed") })
        #expect(groupStart.split(separator: " ", omittingEmptySubsequences: true)[1] == "1", "AT START is the first day with data")
    }
}

/// A retirement in the trend: out of coverage from then on, its findings retired — never
/// resolved, never a time to resolve — and a host retired after the period still in it.
struct RetiredTrendTests {
    @Test func aRetiredHostsFindingsAreRetiredNotResolvedAndItLeavesCoverageFromThenOn() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        let before = try fleet.trend()
        let lab = try #require(try fleet.database.retire(host: "lab-03", at: Timestamp.seconds(rfc3339: "2026-10-31T12:00:00Z")!,
                                                         by: "operator test", reason: "lab closed"))
        #expect(lab.findingsClosed == 1)
        _ = try fleet.database.retire(host: "db-02", at: FleetHistory.until + 86_400, by: "operator test", reason: nil)

        let report = try fleet.trend()
        let last = try #require(report.days.last)
        #expect(last.retiredFindings == 1 && last.resolvedFindings == 0 && last.hostsExposed == 1, "\(last)")
        #expect(report.timeToResolve == before.timeToResolve, "a retirement is no time to resolve")
        #expect(!report.openFindings.contains { $0.span.host == "lab-03" })
        #expect(report.coverage.hosts == 3 && report.coverage.reporting == 2 && report.coverage.stale == 1,
                "db-02 was retired after the period: \(report.coverage)")
        #expect(report.staleHosts == ["db-02"])
        #expect(report.table().contains("Over the period: 4 new, 2 resolved, 1 closed by retiring their host (not fixed)"),
                "\(report.table())")
    }
}
