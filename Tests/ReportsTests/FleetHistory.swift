import Findings
import CollectorServer
import CollectorStore
import Foundation
import Policy
import PortwardenModel
import Reports

/// A small fixed history, 2026-10-20 to 2026-10-31, written through ingest with the
/// default policy plus one waiver — every report test reads the same fleet:
///
/// - web-01 (untagged): 557/tcp from 10-21 until 10-27 — a critical finding, resolved.
/// - vms-01 (tagged OpenVMS): 557/tcp throughout — no finding.
/// - lab-03: 55/udp from 10-22, waived until 10-26 (the waiver expires mid-period), then
///   live; 512/tcp opened and resolved on 10-23.
/// - db-02: 111/tcp from 10-20; silent after 10-24 (stale at the report's end).
struct FleetHistory {
    let database: CollectorDatabase
    let policy: PolicySet
    let directory: String

    static let since = Timestamp.seconds(dateOrRFC3339: "2026-10-20")!
    static let until = Timestamp.seconds(dateOrRFC3339: "2026-11-01")!
    static var window: TimeWindow { TimeWindow(since: since, until: until) }

    static func listener(_ port: UInt16, _ transport: Transport = .tcp, owner: String) -> Listener {
        Listener(transport: transport, family: .ipv4, address: "0.0.0.0", port: port, scope: .any, netns: 4026531840,
                 hostNetns: true, inode: UInt64(port), uid: 0,
                 processes: [Owner(pid: 100, name: owner, exe: "/usr/sbin/" + owner, cmdline: [owner, "--banner", "say \"hi\", then\nwait"],
                                   uid: 0, user: "root", unit: nil, container: nil)])
    }

    init() throws {
        let (directory, policy) = try Self.policyInTemporaryDirectory()
        (self.directory, self.policy) = (directory, policy)
        database = try CollectorDatabase.open(path: directory + "/portwarden.sqlite")
        try database.tag(host: "vms-01", "OpenVMS", at: Self.since, by: "test")

        var sequences: [String: UInt64] = [:]
        func report(_ host: String, at time: String, _ listeners: [Listener]) throws {
            sequences[host, default: 0] += 1
            let snapshot = Snapshot(
                host: PortwardenModel.Host(hostname: host, machineID: host, bootID: "boot", kernel: "6.1", os: "Debian 12"),
                sequence: sequences[host], collectedAt: time, complete: true, ownershipComplete: true, warnings: [],
                namespaces: [], listeners: listeners, unresolved: [])
            _ = try database.ingest(snapshot, host: host, bodyDigest: "\(host)-\(time)", receivedAt: Timestamp.seconds(rfc3339: time)!,
                                    findings: policy.findingEvaluator)
        }
        let sshd = Self.listener(22, owner: "sshd")
        for day in 20...31 {
            let at = "2026-10-\(day)T09:00:00Z"
            try report("web-01", at: at, [sshd] + ((21...26).contains(day) ? [Self.listener(557, owner: "vmsd")] : []))
            try report("vms-01", at: at, [sshd, Self.listener(557, owner: "vmsd")])
            if day == 23 {
                try report("lab-03", at: "2026-10-23T08:00:00Z", [sshd, Self.listener(55, .udp, owner: "glsrv"), Self.listener(512, owner: "rexecd")])
            }
            try report("lab-03", at: at, [sshd] + (day >= 22 ? [Self.listener(55, .udp, owner: "glsrv")] : []))
            if day <= 24 { try report("db-02", at: at, [sshd, Self.listener(111, owner: "rpcbind")]) }
        }
    }

    /// A new temporary directory with the shipped policies and the fixture's waiver in
    /// `policies/`, and the policy they make.
    static func policyInTemporaryDirectory() throws -> (directory: String, policy: PolicySet) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pw-reports-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/policies", withIntermediateDirectories: true)
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Policies").path
        for file in ["catalog.yaml", "legacy-ports.yaml", "inventory.yaml"] {
            try FileManager.default.copyItem(atPath: shipped + "/" + file, toPath: directory + "/policies/" + file)
        }
        try """
            waivers:
              - rule: isi-gl
                host: lab-03
                port: 55
                owner: lab@example.com
                reason: protocol archaeology, until the lab's review
                expires: 2026-10-25
            """.write(toFile: directory + "/policies/waivers.yaml", atomically: true, encoding: .utf8)
        let load = try PolicySet.load(directory: directory + "/policies", today: Day(iso: "2026-10-20")!)
        guard let policy = load.policy else { throw ReportError("fixture policy: \(load.diagnostics)") }
        return (directory, policy)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    var why: RuleTexts { RuleTexts(policy) }

    func tags(_ host: String) -> Set<String> { host == "vms-01" ? ["OpenVMS"] : [] }

    func trend(grouping: TrendReport.Grouping? = nil, zone: String = "UTC", window: TimeWindow = Self.window) throws -> TrendReport {
        try TrendReport.compute(
            spans: FindingSpan.stored(in: database, window: window), database: database,
            grid: DayGrid(window: window, timeZone: TimeZone(identifier: zone)!, name: zone), window: window,
            grouping: grouping, why: why, tags: tags, staleAfter: 2 * 86_400, now: Self.until)
    }
}
