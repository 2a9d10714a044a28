import CollectorClient
import CollectorStore
import Foundation
import OpenSSLTLS
import PortwardenModel
import PortwardenTestSupport
import Testing

/// A host's report as an attacker writes it, against `portwarden serve`: every number in
/// range, every bound, addresses, the clock, each host's budget — refused with a reason
/// the host can act on, nothing stored, the host shown as refusing, and the collector
/// serving the others all along.
extension ServeTests {
    /// The collector's clock in the wire format, `offset` seconds from now.
    static func now(_ offset: TimeInterval = 0) -> String {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + offset).rounded(.down)).formatted(.iso8601)
    }

    static let sshd = Owner(pid: 200, name: "sshd", exe: "/usr/sbin/sshd", cmdline: ["sshd", "-D"], uid: 0, user: "root",
                            unit: "ssh.service", container: nil)

    static func listener(_ port: UInt16, address: String = "0.0.0.0", family: AddressFamily = .ipv4,
                         scope: ExposureScope = .any, owners: [Owner] = [sshd]) -> Listener {
        Listener(transport: .tcp, family: family, address: address, port: port, scope: scope, netns: 4026531840,
                 hostNetns: true, inode: UInt64(port) + 1, uid: 0, processes: owners)
    }

    static func snapshot(_ host: String, _ sequence: UInt64?, at time: String = now(), complete: Bool = false,
                         _ listeners: [Listener]) -> Snapshot {
        Snapshot(host: Host(hostname: host, machineID: "m-\(host)", bootID: "boot", kernel: nil, os: nil), sequence: sequence,
                 collectedAt: time, complete: complete, ownershipComplete: true, warnings: [], namespaces: [],
                 listeners: listeners, unresolved: [])
    }

    static func body(_ snapshot: Snapshot) -> [UInt8] {
        var writer = JSONWriter()
        writer.value(snapshot)
        return writer.buffer
    }

    /// A collector on loopback with `hosts` enrolled; `body` gets a way to post as each.
    func withCollector(_ hosts: [String], _ options: [String] = [],
                       _ body: (_ port: Int, _ post: (String, [UInt8]) throws -> HTTPResponse, _ contexts: [String: TLSContext])
                           throws -> Void) throws {
        defer { try? FileManager.default.removeItem(atPath: state) }
        try #require(try portwarden(["ca", "init", "--state-dir", state, "--name", "127.0.0.1"]).status == 0)
        var contexts: [String: TLSContext] = [:]
        for host in hosts { contexts[host] = try enroll(host) }
        let port = try unusedPort()
        let server = try serve(port: port, options)
        defer { server.terminate(); server.waitUntilExit() }
        try body(port, { host, bytes in
            try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: contexts[host]!, timeout: 10)
                .post("/v1/reports", body: bytes)
        }, contexts)
        #expect(server.isRunning, "the collector is still up")
    }

    /// Asks until `condition` holds (refusals reach the store through the ingest thread).
    func eventually(_ what: String, _ condition: () throws -> Bool) throws {
        for _ in 0..<50 {
            if try condition() { return }
            usleep(100_000)
        }
        Issue.record("never: \(what)")
    }

    func metrics(_ port: Int, as host: String) throws -> String {
        // Any fleet certificate may scrape; enroll one for it.
        try CollectorConnection(host: "127.0.0.1", port: UInt16(port), context: try enroll(host + "-metrics"), timeout: 10)
            .get("/metrics").text
    }

    @Test func aSequencePastInt64IsRefusedNamingItsKeyAndTheCollectorServesOn() throws {
        try withCollector(["web-01", "db-01"]) { port, post, _ in
            for (sequence, key) in [(UInt64.max, "sequence"), (UInt64(Int64.max) + 1, "sequence")] {
                let refused = try post("web-01", Self.body(Self.snapshot("web-01", sequence, [Self.listener(22)])))
                #expect(refused.status == 400, "\(refused.text)")
                #expect(refused.text.contains("(\(key)): \(sequence) is out of range 0...\(Int64.max)"), "\(refused.text)")
            }
            var badPid = Self.snapshot("web-01", 1, [Self.listener(22)])
            badPid.listeners[0].processes[0].pid = 0
            let pid = try post("web-01", Self.body(badPid))
            #expect(pid.status == 400 && pid.text.contains("(listeners.0.processes.0.pid)"), "\(pid.text)")
            var badInode = Self.snapshot("web-01", 1, [Self.listener(22)])
            badInode.listeners[0].netns = UInt64(Int64.max) + 1
            let netns = try post("web-01", Self.body(badInode))
            #expect(netns.status == 400 && netns.text.contains("(listeners.0.netns)"), "\(netns.text)")
            #expect(try CollectorDatabase.open(path: state + "/portwarden.sqlite").openListeners(host: "web-01").isEmpty)

            // Just inside: stored, and the collector serves every host.
            #expect(try post("web-01", Self.body(Self.snapshot("web-01", UInt64(Int64.max), [Self.listener(22)]))).status == 200)
            #expect(try post("db-01", Self.body(Self.snapshot("db-01", 1, [Self.listener(22)]))).status == 200)
            let database = try CollectorDatabase.open(path: state + "/portwarden.sqlite")
            #expect(try database.hosts(now: 0, staleAfter: 1).map(\.host.lastSequence) == [1, Int64.max])
            let text = try metrics(port, as: "prometheus")
            #expect(text.contains("portwarden_reports_refused_total{reason=\"bad_request\"} 4"), "\(text)")
        }
    }

    @Test func eachBoundIsAcceptedAtItAndRefusedPastIt() throws {
        try withCollector(["web-01"]) { port, post, contexts in
            var sequence: UInt64 = 0
            func send(_ listeners: [Listener]) throws -> HTTPResponse {
                sequence += 1
                return try post("web-01", Self.body(Self.snapshot("web-01", sequence, listeners)))
            }
            let all = (0..<UInt16(WireLimits.listenersPerReport)).map { Self.listener($0, owners: []) }
            #expect(try send(all).status == 200)
            let tooMany = try send(all + [Self.listener(UInt16(WireLimits.listenersPerReport), owners: [])])
            #expect(tooMany.status == 400 && tooMany.text.contains("(listeners.\(WireLimits.listenersPerReport)): more than"),
                    "\(tooMany.text)")

            var owner = Self.sshd
            owner.cmdline = [String(repeating: "a", count: WireLimits.cmdlineBytes - 1)]  // and its NUL
            #expect(try send([Self.listener(22, owners: [owner])]).status == 200)
            owner.cmdline[0] += "a"
            let long = try send([Self.listener(22, owners: [owner])])
            #expect(long.status == 400 && long.text.contains("(listeners.0.processes.0.cmdline.0)"), "\(long.text)")

            let owners = Array(repeating: Self.sshd, count: WireLimits.ownersPerListener)
            #expect(try send([Self.listener(22, owners: owners)]).status == 200)
            let crowd = try send([Self.listener(22, owners: owners + [Self.sshd])])
            #expect(crowd.status == 400 && crowd.text.contains("(listeners.0.processes.\(WireLimits.ownersPerListener))"),
                    "\(crowd.text)")

            var name = Self.sshd
            name.name = String(repeating: "n", count: WireLimits.stringBytes)
            #expect(try send([Self.listener(22, owners: [name])]).status == 200)
            name.name += "n"
            let longName = try send([Self.listener(22, owners: [name])])
            #expect(longName.status == 400 && longName.text.contains("(listeners.0.processes.0.name)"), "\(longName.text)")

            // The whole report: max_report_bytes defaults to WireLimits.snapshotBytes.
            sequence += 1
            let report = Self.body(Self.snapshot("web-01", sequence, [Self.listener(22)]))
            let full = report + [UInt8](repeating: 0x20, count: WireLimits.snapshotBytes - report.count)
            #expect(try post("web-01", full).status == 200, "a report of exactly snapshotBytes")
            let socket = try TLSSocket.connect(host: "127.0.0.1", port: UInt16(port), context: contexts["web-01"]!, timeout: 10)
            try socket.write(Array("POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Length: \(WireLimits.snapshotBytes + 1)\r\n\r\n".utf8))
            let tooLarge = try HTTPResponse.read(from: socket)
            #expect(tooLarge.status == 413, "\(tooLarge.status) \(tooLarge.text)")
            // A body refused at its head leaves the host marked as refusing, too large.
            try eventually("web-01 refusing: report too large") {
                try portwarden(["hosts", "list", "--state-dir", state]).output.contains("refusing: report too large")
            }
        }
    }

    @Test func anAddressMustParseAndItsScopeIsTheCollectorsReading() throws {
        try withCollector(["web-01"]) { _, post, _ in
            for address in ["<b>0.0.0.0</b>", "=1+2"] {
                let response = try post("web-01", Self.body(Self.snapshot("web-01", 1, [Self.listener(557, address: address)])))
                #expect(response.status == 400, "\(response.text)")
                #expect(response.text.contains("(listeners.0.address): \"\(address)\" is not an IPv4 or IPv6 address"),
                        "\(response.text)")
            }
            let lie = try post("web-01", Self.body(Self.snapshot("web-01", 1, [Self.listener(557, scope: .loopback)])))
            #expect(lie.status == 400, "\(lie.text)")
            #expect(lie.text.contains("(listeners.0): the listener tcp 0.0.0.0:557 says scope loopback; bound to 0.0.0.0 it is any"),
                    "\(lie.text)")
            let family = try post("web-01", Self.body(Self.snapshot("web-01", 1, [Self.listener(557, address: "::", scope: .any)])))
            #expect(family.status == 400 && family.text.contains("says family ipv4; its address is ipv6"), "\(family.text)")

            let database = try CollectorDatabase.existing(path: state + "/portwarden.sqlite")
            #expect(try database.hosts(now: 0, staleAfter: 1).isEmpty, "nothing stored")
            var intervals = 0
            try database.forEachListenerInterval(since: .min, until: .max) { _, _ in intervals += 1 }
            #expect(intervals == 0)

            // A mapped address in another spelling: stored as its canonical text.
            let mapped = Self.listener(557, address: "0:0:0:0:0:FFFF:7F00:1", family: .ipv6, scope: .loopback)
            #expect(try post("web-01", Self.body(Self.snapshot("web-01", 1, [mapped]))).status == 200)
            let stored = try CollectorDatabase.open(path: state + "/portwarden.sqlite").openListeners(host: "web-01")
            #expect(stored.map(\.address) == ["::ffff:127.0.0.1"] && stored.map(\.scope) == ["loopback"])
        }
    }

    @Test func aClockAheadIsRefusedAndTheHostShowsAsRefusingEverywhere() throws {
        try withCollector(["web-01", "db-01"]) { port, post, _ in
            #expect(try post("web-01", Self.body(Self.snapshot("web-01", 1, [Self.listener(22)]))).status == 200)
            // web-01's clock jumps to 2031; db-01's was there from its first report.
            for host in ["web-01", "db-01"] {
                let refused = try post(host, Self.body(Self.snapshot(host, 2, at: "2031-01-01T00:00:00Z", [Self.listener(22)])))
                #expect(refused.status == 400, "\(refused.text)")
                #expect(refused.text.contains("clock skew") && refused.text.contains("2031-01-01T00:00:00Z")
                        && refused.text.contains("collector's clock (\(Self.now().prefix(10))"), "\(refused.text)")
            }
            // Five minutes ahead is within the skew.
            #expect(try post("web-01", Self.body(Self.snapshot("web-01", 3, at: Self.now(290), [Self.listener(22)]))).status == 200)
            _ = try post("web-01", Self.body(Self.snapshot("web-01", 4, at: "2031-01-01T00:00:00Z", [Self.listener(22)])))

            try eventually("both hosts refusing in hosts list") {
                let lines = try portwarden(["hosts", "list", "--state-dir", state]).output.split(separator: "\n")
                return lines.contains { $0.hasPrefix("web-01 ") && $0.contains("refusing: clock skew") }
                    && lines.contains { $0.hasPrefix("db-01 ") && $0.contains("never") && $0.contains("refusing: clock skew") }
            }
            let json = try portwarden(["hosts", "list", "--state-dir", state, "--format", "json"])
            let rows = try listingRows(json.output, "hosts")
            let web = try #require(rows.first { $0["host"] as? String == "web-01" })
            let refused = try #require(web["refused"] as? [String: Any])
            #expect(web["state"] as? String == "refusing" && refused["reason"] as? String == "clock_skew")
            #expect((refused["message"] as? String)?.contains("2031-01-01T00:00:00Z") == true)

            let text = try metrics(port, as: "prometheus")
            #expect(text.contains("portwarden_hosts{state=\"refusing\"} 2"), "\(text)")
            #expect(text.contains("portwarden_host_refusing{host=\"db-01\",reason=\"clock_skew\"} 1"))
            #expect(text.contains("portwarden_host_refusing{host=\"web-01\",reason=\"clock_skew\"} 1"))
            #expect(text.contains("portwarden_reports_refused_total{reason=\"clock_skew\"} 3"))

            let trend = try portwarden(["report", "trend", "--state-dir", state, "--since", "1d", "--format", "json"])
            let report = try #require(try JSONSerialization.jsonObject(with: Data(trend.output.utf8)) as? [String: Any])
            let coverage = try #require(report["coverage"] as? [String: Any])
            #expect(coverage["hosts"] as? Int == 2 && coverage["refusing"] as? Int == 2 && coverage["reporting"] as? Int == 0,
                    "\(coverage)")
            let table = try portwarden(["report", "trend", "--state-dir", state, "--since", "1d"])
            #expect(table.output.contains("2 refusing (reports refused, unknown: db-01: clock skew, web-01: clock skew)"),
                    "\(table.output)")
            // The host's own report and the hosts export say so too: one rule everywhere.
            let host = try portwarden(["report", "host", "WEB-01.", "--state-dir", state])  // in any spelling
            #expect(host.output.contains("State: refusing: clock skew since"), "\(host.output)")
            let hostJSON = try portwarden(["report", "host", "web-01", "--state-dir", state, "--format", "json"]).output
            #expect(hostJSON.contains(#""state":"refusing","refusing":{"reason":"clock_skew""#), "\(hostJSON)")
            let export = try portwarden(["export", "hosts", "--state-dir", state, "--format", "csv"]).output
            #expect(export.contains("web-01,refusing,"), "\(export)")

            // The clock mended: the next report is stored and the host is reporting again.
            #expect(try post("web-01", Self.body(Self.snapshot("web-01", 5, [Self.listener(22)]))).status == 200)
            let after = try portwarden(["hosts", "list", "--state-dir", state]).output.split(separator: "\n")
            #expect(after.contains { $0.hasPrefix("web-01 ") && $0.contains("reporting") }, "\(after)")
            #expect(try metrics(port, as: "prometheus2").contains("portwarden_hosts{state=\"refusing\"} 1"))
        }
    }

    @Test func theSkewIsASettingInTheDurationSyntax() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("pw-skew-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: config) }
        try "max_clock_skew: 10m\nmax_queued_reports: 16\n".write(toFile: config, atomically: true, encoding: .utf8)
        try withCollector(["web-01"], ["--config", config]) { _, post, _ in
            #expect(try post("web-01", Self.body(Self.snapshot("web-01", 1, at: Self.now(540), [Self.listener(22)]))).status == 200)
            let ahead = try post("web-01", Self.body(Self.snapshot("web-01", 2, at: Self.now(660), [Self.listener(22)])))
            #expect(ahead.status == 400 && ahead.text.contains("more than max_clock_skew (10m)"), "\(ahead.text)")
        }
        try "max_clock_skew: 5 minutes\n".write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try portwarden(["serve", "--config", config, "--state-dir", state])
        #expect(bad.status == 2 && bad.output.contains("\(config):1:17") && bad.output.contains("a duration such as 90s"),
                "\(bad.output)")
        let flag = try portwarden(["serve", "--max-clock-skew", "2d", "--state-dir", state])
        #expect(flag.status == 2 && flag.output.contains("--max-clock-skew must be from 1s to 1d"), "\(flag.output)")
    }

    @Test func aHostPostingChangedReportsBackToBackIsThrottledAndOthersAreNot() throws {
        let options = ["--host-changed-listeners-per-hour", "20", "--host-reports-per-minute", "30"]
        try withCollector(["web-01", "db-01", "ops-01"], options) { port, post, _ in
            // Each report replaces its listener: one opened and one closed, two changes.
            var throttled: HTTPResponse?
            for sequence in 1...30 where throttled == nil {
                let response = try post("web-01", Self.body(Self.snapshot("web-01", UInt64(sequence), complete: true,
                                                                          [Self.listener(UInt16(2000 + sequence))])))
                if response.status == 429 { throttled = response; #expect(sequence > 10, "within its budget until then") }
                else { #expect(response.status == 200, "\(response.text)") }
            }
            let refused = try #require(throttled, "never throttled")
            #expect(refused.headers["retry-after"].flatMap(Int.init).map { $0 >= 1 } == true, "\(refused.headers)")
            #expect(refused.text.contains("past its budget"), "\(refused.text)")
            #expect(try post("db-01", Self.body(Self.snapshot("db-01", 1, complete: true, [Self.listener(22)]))).status == 200,
                    "another host is unaffected")

            // Unchanged reports, back to back: past 30 a minute.
            var sent = 0
            while sent < 40, try post("ops-01", Self.body(Self.snapshot("ops-01", UInt64(sent + 1), [Self.listener(22)]))).status == 200 {
                sent += 1
            }
            #expect(sent >= 30 && sent < 40, "\(sent) accepted")

            let text = try metrics(port, as: "prometheus")
            #expect(text.contains("portwarden_host_reports_throttled_total{host=\"web-01\"} 1"), "\(text)")
            #expect(text.contains("portwarden_host_reports_throttled_total{host=\"ops-01\"} 1"))
            #expect(!text.contains("portwarden_host_reports_throttled_total{host=\"db-01\"}"), "only throttled hosts have a series")
            let list = try portwarden(["hosts", "list", "--state-dir", state]).output
            #expect(!list.contains("refusing"), "a throttled host is not refusing: \(list)")
        }
    }

    /// Within its report count, a host sending large reports is throttled by their bytes
    /// — decoding is what they cost — and another host is not.
    @Test func aHostSendingLargeReportsIsThrottledByTheirBytes() throws {
        try withCollector(["web-01", "db-01"], ["--host-report-bytes-per-minute", "1048576"]) { _, post, _ in
            let large = (1...2_000).map { Self.listener(UInt16(10_000 + $0)) }  // ~300 KB of JSON
            var accepted = 0, throttled: HTTPResponse?
            for sequence in 1...10 where throttled == nil {
                let response = try post("web-01", Self.body(Self.snapshot("web-01", UInt64(sequence), large)))
                if response.status == 429 { throttled = response } else { #expect(response.status == 200, "\(response.text)"); accepted += 1 }
            }
            let refused = try #require(throttled, "never throttled")
            #expect((2...4).contains(accepted), "1 MiB a minute: \(accepted) reports of ~300 KB, then 429")
            #expect(refused.text.contains("1048576 report bytes a minute"), "\(refused.text)")
            #expect(try post("db-01", Self.body(Self.snapshot("db-01", 1, [Self.listener(22)]))).status == 200,
                    "another host is unaffected")
        }
    }
}
