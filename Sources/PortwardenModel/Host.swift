/// What identifies the machine a snapshot came from.
public struct Host: Codable, Equatable, Sendable {
    public var hostname: String
    /// `/etc/machine-id`: stable across reboots and renames.
    public var machineID: String?
    /// Changes at every boot; with it, a collector tells a reboot from a gap.
    public var bootID: String?
    public var kernel: String?
    /// `PRETTY_NAME` from os-release.
    public var os: String?
    /// What the agent's config declares about the host (`labels:`). Never tags: only rules
    /// that name a label read them. nil when none are configured (and from older agents).
    public var labels: [String: String]?

    public init(hostname: String, machineID: String?, bootID: String?, kernel: String?, os: String?,
                labels: [String: String]? = nil) {
        self.hostname = hostname
        self.machineID = machineID
        self.bootID = bootID
        self.kernel = kernel
        self.os = os
        self.labels = labels
    }

    enum CodingKeys: String, CodingKey {
        case hostname, kernel, os, labels
        case machineID = "machine_id"
        case bootID = "boot_id"
    }
}

extension Host: WireEncodable {
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.hostname); w.value(hostname)
        w.key(CodingKeys.machineID); w.value(machineID)
        w.key(CodingKeys.bootID); w.value(bootID)
        w.key(CodingKeys.kernel); w.value(kernel)
        w.key(CodingKeys.os); w.value(os)
        w.key(CodingKeys.labels); w.value(labels)
        w.endObject()
    }
}

/// A network namespace the scan found, and where its tables were read from.
public struct NetworkNamespace: Codable, Equatable, Sendable {
    public var inode: UInt64
    /// The namespace of pid 1: the host's own network.
    public var host: Bool
    /// How many processes were seen in it; 0 for a namespace that only a socket keeps alive.
    public var processes: Int
    /// The member whose `/proc/PID/net/*` tables were read, or nil when none could be.
    public var tablesFrom: Int32?

    public init(inode: UInt64, host: Bool, processes: Int, tablesFrom: Int32?) {
        self.inode = inode
        self.host = host
        self.processes = processes
        self.tablesFrom = tablesFrom
    }

    enum CodingKeys: String, CodingKey {
        case inode, host, processes
        case tablesFrom = "tables_from"
    }
}

extension NetworkNamespace: WireEncodable {
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.inode); w.value(inode)
        w.key(CodingKeys.host); w.value(host)
        w.key(CodingKeys.processes); w.value(processes)
        w.key(CodingKeys.tablesFrom); w.value(tablesFrom)
        w.endObject()
    }
}
