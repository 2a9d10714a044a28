import Foundation

/// The collector's CPU seconds so far, per thread name (trailing digits and separators
/// dropped, so NIO-SGLTN-1-#0 and #1 add up), from /proc/PID/task/*/stat: sampled
/// around the measured reports only, so each host's first full report and the
/// certificates issued before them are not counted (`--server-pid`).
struct ServerCPU {
    var threads: [String: Double] = [:]

    init(pid: Int32) {
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
            let name = String(stat[stat.index(after: open)..<close])
                .replacing(/[-#0-9]+$/, with: "")
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            threads[name, default: 0] += (user + system) / tick
        }
    }

    var total: Double { threads.values.reduce(0, +) }

    /// µs a report between `before` and now, in all and per thread (those of 1 µs or more,
    /// busiest first): "412 (NIO-SGLTN 300, ingest 100)".
    static func perReport(since before: ServerCPU, now: ServerCPU, reports: Int) -> String {
        let n = Double(max(reports, 1))
        let per = now.threads.map { ($0.key, ($0.value - before.threads[$0.key, default: 0]) * 1e6 / n) }
            .filter { $0.1 >= 1 }.sorted { $0.1 > $1.1 }
        return String(format: "%.0f", per.map(\.1).reduce(0, +))
            + " (" + per.map { "\($0.0) " + String(format: "%.0f", $0.1) }.joined(separator: ", ") + ")"
    }
}

/// The whole machine's busy CPU seconds so far, all cores (/proc/stat: all but idle and
/// iowait): beside the collector's and this process's, what everything else took.
func machineBusySeconds() -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
    let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard ticks.count >= 5 else { return 0 }
    return (ticks.prefix(8).reduce(0, +) - ticks[3] - ticks[4]) / Double(sysconf(Int32(_SC_CLK_TCK)))
}
