import PortwardenModel

/// Owners, listeners and snapshots of one host (web-01 unless named), for the tests that
/// store a history: the store's and the findings'.
public enum HistoryFixtures {
    public static let sshd = Owner(pid: 200, name: "sshd", exe: "/usr/sbin/sshd", cmdline: ["sshd"], uid: 0, user: "root",
                                   unit: "ssh.service", container: nil)
    public static let vmsd = Owner(pid: 300, name: "vmsd", exe: "/opt/vms/bin/vmsd", cmdline: ["vmsd"], uid: 0, user: "root",
                                   unit: nil, container: nil)

    public static func listener(_ port: UInt16, _ owners: [Owner], address: String = "0.0.0.0") -> Listener {
        Listener(transport: .tcp, family: .ipv4, address: address, port: port, scope: .any, netns: 4026531840,
                 hostNetns: true, inode: UInt64(port), uid: 0, processes: owners)
    }

    public static func snapshot(_ sequence: UInt64?, at time: String, host: String = "web-01", boot: String = "boot-1",
                                complete: Bool = true, labels: [String: String]? = nil, _ listeners: [Listener]) -> Snapshot {
        Snapshot(host: Host(hostname: host, machineID: "m", bootID: boot, kernel: "6.1", os: "Debian", labels: labels),
                 sequence: sequence, collectedAt: time, complete: complete, ownershipComplete: true, warnings: [],
                 namespaces: [], listeners: listeners, unresolved: [])
    }
}
