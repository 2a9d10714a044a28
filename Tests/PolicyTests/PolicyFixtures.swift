import Foundation
import PortwardenModel
@testable import Policy

/// Policies built from text in the test, and listeners made from the few facts a test cares about.
enum PolicyFixtures {
    /// The repository's own Policies/ directory.
    static let policiesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Policies").path

    static let today = Day(iso: "2026-06-15")!
    static let noon = Date(timeIntervalSince1970: Double(today.ordinal) * 86_400 + 43_200)

    static let catalog = """
        ports:
          - {port: 55, protocols: [tcp, udp], service: isi-gl, description: ISI Graphics Language, why: dead}
          - {port: 512, protocols: [tcp], service: exec, description: rexec, why: clear text}
          - {port: 512, protocols: [udp], service: biff, description: comsat, why: obsolete}
          - {port: 557, protocols: [tcp, udp], service: openvms-sysipc, description: OpenVMS IPC, why: OpenVMS only}
        """

    static func load(rules: String, catalog: String? = catalog, inventory: String? = nil, waivers: String? = nil,
                     tests: String? = nil, today: Day = today) -> PolicyLoad {
        var sources = [PolicySource(path: "rules.yaml", text: rules)]
        if let catalog { sources.append(PolicySource(path: "catalog.yaml", text: catalog)) }
        if let inventory { sources.append(PolicySource(path: "inventory.yaml", text: inventory)) }
        if let waivers { sources.append(PolicySource(path: "waivers.yaml", text: waivers)) }
        if let tests { sources.append(PolicySource(path: "tests/cases.yaml", text: tests)) }
        return PolicySet.load(sources, today: today)
    }

    /// A one-rule policy whose rule fires when `condition` holds.
    static func policy(when condition: String, unless: String? = nil) throws -> PolicySet {
        let unlessLine = unless.map { "\n    unless: '\($0)'" } ?? ""
        let result = load(rules: "rules:\n  - id: r\n    why: test\n    severity: low\n    when: '\(condition)'\(unlessLine)\n")
        guard let policy = result.policy else { throw FixtureError(diagnostics: result.diagnostics) }
        return policy
    }

    struct FixtureError: Error, CustomStringConvertible {
        var diagnostics: [Diagnostic]
        var description: String { diagnostics.map(\.description).joined(separator: "\n") }
    }

    static func owner(_ name: String, exe: String? = nil, user: String? = "root", unit: String? = nil,
                      container: String? = nil) -> Owner {
        Owner(pid: 100, name: name, exe: exe ?? "/usr/sbin/\(name)", cmdline: [name], uid: 0, user: user, unit: unit, container: container)
    }

    static func listener(port: UInt16 = 557, transport: Transport = .tcp, address: String = "0.0.0.0",
                         scope: ExposureScope? = nil, netns: UInt64? = nil, uid: UInt32 = 0, owners: [Owner] = [],
                         foundBy: Discovery = .procfs) -> Listener {
        let family: AddressFamily = address.contains(":") ? .ipv6 : .ipv4
        return Listener(transport: transport, family: family, address: address, port: port,
                        scope: scope ?? IPAddress(address).map(ExposureScope.init(boundTo:)) ?? .any,
                        netns: netns ?? 4_026_531_840, hostNetns: netns == nil, inode: 1, uid: uid, processes: owners,
                        foundBy: foundBy)
    }

    /// Whether the one-rule policy fires for the listener on the host.
    static func fires(_ condition: String, _ listener: Listener, host: String = "web-01", tags: Set<String> = [],
                      labels: [String: String] = [:]) throws -> Bool {
        let policy = try policy(when: condition)
        return !policy.evaluate(listeners: [listener], host: HostFacts(name: host, tags: tags, labels: labels), now: noon).isEmpty
    }
}
