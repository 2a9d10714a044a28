import ArgumentParser
import CollectorStore
import Foundation
import PortwardenModel
import Reports

extension Hosts {
    /// `portwarden hosts list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every host that has reported or been refused: when it last reported, and its state.",
            discussion: """
                A stale host has not reported within the stale window; what it listened on is unknown, not \
                compliant. A refusing host's newest report was refused — a clock ahead of the collector's, a \
                malformed or out-of-order report, one too large: `refusing: REASON`, and the whole answer it was \
                given with --format json. It stays refusing until a report of it is stored.
                """)

        @OptionGroup var state: StateOptions

        @Option(help: "Seconds without a report after which a host counts as stale (default: the config's stale_after, else 900).")
        var staleAfter: Int?

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        @Flag(help: "Show retired hosts (`hosts forget`) too.")
        var all = false

        func run() throws {
            let database = try openHistory(state)
            let now = Int64(Date().timeIntervalSince1970)
            let window = try staleAfter.map(Int64.init) ?? state.file().staleAfterSeconds
            let refusals = try database.currentRefusals()
            var hosts: [String: (host: HostRecord?, listening: Int)] = refusals.mapValues { _ in (nil, 0) }
            for (host, listening) in try database.hostsWithOpenListeners() where all || host.retiredAt == nil {
                hosts[host.name] = (host, listening)
            }
            let rows = hosts.keys.sorted().map { name in
                let (host, listening) = hosts[name]!
                return (name, host, listening, HostState(host: host, refusal: refusals[name], now: now, staleAfter: window))
            }
            switch format {
            case .table:
                let cells = rows.map { name, host, listening, state in
                    [name, host.map { Timestamp.rfc3339($0.lastReceived) } ?? "never",
                     state.text, state == .reporting ? String(listening) : host == nil ? "unknown" : "unknown (\(listening) last seen)",
                     host?.lastSequence.map(String.init) ?? "-"]
                }
                print(TextLayout.table(["HOST", "LAST REPORT", "STATE", "LISTENING", "LAST SEQUENCE"], cells, width: .max),
                      terminator: "")
            case .json:
                var w = JSONWriter()
                w.beginArray()
                for (name, host, listening, state) in rows {
                    w.beginObject()
                    w.key("host"); w.value(name)
                    w.key("last_report"); w.value(host.map { Timestamp.rfc3339($0.lastReceived) })
                    w.key("state"); w.value(state.name)
                    w.key("listening"); w.value(host.map { _ in listening })
                    w.key("last_sequence"); w.value(host?.lastSequence)
                    w.key("refused"); Self.write(state.refusal, to: &w)
                    w.endObject()
                }
                w.endArray()
                print(String(decoding: w.buffer, as: UTF8.self))
            }
        }

        static func write(_ refusal: HostRefusal?, to w: inout JSONWriter) {
            guard let refusal else { return w.null() }
            w.beginObject()
            w.key("reason"); w.value(refusal.reason.rawValue)
            w.key("message"); w.value(refusal.message)
            w.key("since"); w.value(Timestamp.rfc3339(refusal.firstRefused))
            w.key("last"); w.value(Timestamp.rfc3339(refusal.lastRefused))
            w.key("refusals"); w.value(refusal.refusals)
            w.endObject()
        }
    }
}
