import Foundation
import Reports
import Testing

/// The HTML report rendered by a real browser (Debian's chromium, headless): it must
/// render, and the chart must be there with a point per day.
struct HTMLRenderTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

    func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(Self.chromium, "chromium is not installed (scripts/setup installs it)"))
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func theTrendReportRendersWithItsChart() throws {
        let fleet = try FleetHistory()
        defer { fleet.remove() }
        let report = try fleet.trend()
        let page = fleet.directory + "/trend.html", picture = fleet.directory + "/trend.png"
        try report.html().write(toFile: page, atomically: true, encoding: .utf8)
        let html = report.html()
        for fetch in ["<script", "src=", "href=", "@import", "url("] {
            #expect(!html.contains(fetch), "self-contained: no scripts, nothing fetched (\(fetch))")
        }

        let dom = try run(["--dump-dom", "file://" + page])
        #expect(dom.status == 0)
        #expect(dom.output.contains("<svg id=\"exposure-chart\""), "the chart is in the rendered page")
        let points = dom.output.firstMatch(of: /<polyline class="exposed" points="([^"]*)"/)?.1.split(separator: " ").count
        #expect(points == report.days.count, "a point per day")
        #expect(dom.output.contains("Still open (2)"))

        let shot = try run(["--window-size=1200,1400", "--screenshot=" + picture, "file://" + page])
        #expect(shot.status == 0)
        let size = (try? FileManager.default.attributesOfItem(atPath: picture)[.size] as? Int) ?? 0
        #expect(size > 20_000, "a screenshot with something on it (\(size) bytes)")
        if let keep = ProcessInfo.processInfo.environment["PW_KEEP_SCREENSHOT"] { try? FileManager.default.copyItem(atPath: picture, toPath: keep) }
    }
}
