import ArgumentParser
import CommandConventions
import CollectorStore
import Foundation
import PortwardenModel
import Reports

extension Hosts {
    /// `portwarden hosts list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every host that has reported or been refused: when it last reported, its state and certificate.",
            discussion: """
                A stale host has not reported within the stale window; what it listened on is unknown, not \
                compliant. A refusing host's newest report was refused — a clock ahead of the collector's, a \
                malformed or out-of-order report, one too large: `refusing: REASON`, and the whole answer it was \
                given with --format json. It stays refusing until a report of it is stored. A retired host \
                (`hosts forget`) is left out unless --all. CERT EXPIRES is when the host's current, unrevoked \
                certificate ends ("-": none), marked when that is within 30 days. --format json writes \
                {"schema": 1, "hosts": [...]}, a stable shape described in README.md (The collector, `hosts list`).
                """)

        @OptionGroup var state: StateOptions

        @Option(help: ArgumentHelp("Time without a report after which a host counts as stale: 90s, 15m… (default: the config's stale_after, else 15m).",
                                   valueName: "duration"), transform: Seconds.argument)
        var staleAfter: Seconds?

        @Option(help: "table or json.")
        var format: OutputFormat = .table

        @Flag(help: "Show retired hosts (`hosts forget`) too.")
        var all = false

        func validate() throws {
            if let staleAfter, !CollectorConfig.Limits.staleAfter.contains(staleAfter.value) {
                throw ValidationError("--stale-after must be from \(Seconds(CollectorConfig.Limits.staleAfter.lowerBound)) to "
                                      + "\(Seconds(CollectorConfig.Limits.staleAfter.upperBound)); got \(staleAfter)")
            }
        }

        /// A certificate ending this close is flagged.
        static let expiryWarning: Int64 = 30 * 86_400

        struct Row {
            var name: String
            var host: HostRecord?
            var listening: Int
            var state: HostState
            var certificate: IssuedCertificate?
        }

        func run() throws {
            let database = try openHistory(state)
            let now = nowSeconds
            let window = try staleAfter.map { Int64($0.value) } ?? state.file().staleAfterSeconds
            let refusals = try database.currentRefusals()
            var hosts: [String: (host: HostRecord?, listening: Int)] = refusals.mapValues { _ in (nil, 0) }
            for (host, listening) in try database.hostsWithOpenListeners() where all || host.retiredAt == nil {
                hosts[host.name] = (host, listening)
            }
            let certificates = Self.current(try database.certificates(host: nil))
            let rows = hosts.keys.sorted().map { name in
                let (host, listening) = hosts[name]!
                return Row(name: name, host: host, listening: listening,
                           state: HostState(host: host, refusal: refusals[name], now: now, staleAfter: window),
                           certificate: certificates[name])
            }
            switch format {
            case .table:
                let cells = rows.map { row in
                    [row.name, row.host.map { Timestamp.rfc3339($0.lastReceived) } ?? "never", row.state.text, Self.listening(row),
                     row.host?.lastSequence.map(String.init) ?? "-", Self.expiry(row.certificate, now: now)]
                }
                print(TextLayout.table(["HOST", "LAST REPORT", "STATE", "LISTENING", "LAST SEQUENCE", "CERT EXPIRES"], cells,
                                       width: .max),
                      terminator: "")
            case .json:
                // As reports show them: the recorded policy's inventory now, with operators' edits.
                let tags = PolicyHistory(database: database).tags(at: now)
                Listing.print("hosts") { w in
                    w.beginArray()
                    for row in rows { Self.write(row, tags: tags.of(row.name).sorted(), now: now, to: &w) }
                    w.endArray()
                }
            }
        }

        /// Each name's current certificate: unrevoked and not renewed (during a renewal's
        /// overlap the old one is unrevoked too), the one that ends last.
        static func current(_ certificates: [IssuedCertificate]) -> [String: IssuedCertificate] {
            certificates.filter(\.isCurrent).reduce(into: [:]) { current, certificate in
                if current[certificate.hostName].map({ $0.notAfter < certificate.notAfter }) ?? true {
                    current[certificate.hostName] = certificate
                }
            }
        }

        static func listening(_ row: Row) -> String {
            switch row.state {
            case .reporting: String(row.listening)
            case .retired: "-"
            default: row.host == nil ? "unknown" : "unknown (\(row.listening) last seen)"
            }
        }

        /// `2027-02-25`, `2026-12-10 (in 12d)` within the warning, `EXPIRED 2026-11-20`, or `-`.
        static func expiry(_ certificate: IssuedCertificate?, now: Int64) -> String {
            guard let certificate else { return "-" }
            let day = String(Timestamp.rfc3339(certificate.notAfter).prefix(10))
            if certificate.notAfter <= now { return "EXPIRED \(day)" }
            let left = certificate.notAfter - now
            return left <= expiryWarning ? "\(day) (in \(TextLayout.duration(left)))" : day
        }

        static func write(_ row: Row, tags: [String], now: Int64, to w: inout JSONWriter) {
            w.beginObject()
            w.key("host"); w.value(row.name)
            w.key("state"); w.value(row.state.name)
            // Receive times are the collector's clock; last_collected is the host's own.
            w.key("first_report"); w.value(row.host?.firstReceived.map { Timestamp.rfc3339($0) })
            w.key("last_report"); w.value(row.host.map { Timestamp.rfc3339($0.lastReceived) })
            w.key("last_collected"); w.value(row.host.map { Timestamp.rfc3339($0.lastSeen) })
            w.key("listening"); w.value(row.host.map { _ in row.listening })
            w.key("last_sequence"); w.value(row.host?.lastSequence)
            w.key("tags"); w.value(tags)
            w.key("labels"); w.beginObject()
            for (key, value) in (row.host?.labelMap ?? [:]).sorted(by: { $0.key < $1.key }) { w.key(key); w.value(value) }
            w.endObject()
            w.key("certificate")
            if let certificate = row.certificate {
                w.beginObject()
                w.key("serial"); w.value(certificate.serial)
                w.key("not_after"); w.value(Timestamp.rfc3339(certificate.notAfter))
                w.key("expires_within_30_days"); w.value(certificate.notAfter - now <= expiryWarning)
                w.key("expired"); w.value(certificate.notAfter <= now)
                w.endObject()
            } else {
                w.null()
            }
            w.key("refused"); write(row.state.refusal, to: &w)
            w.key("retired")
            if let host = row.host, let at = host.retiredAt {
                w.beginObject()
                w.key("at"); w.value(Timestamp.rfc3339(at))
                w.key("by"); w.value(host.retiredBy)
                w.key("reason"); w.value(host.retiredReason)
                w.endObject()
            } else {
                w.null()
            }
            w.endObject()
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
