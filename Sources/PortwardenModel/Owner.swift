/// A process holding a listening socket.
public struct Owner: Codable, Equatable, Sendable {
    public var pid: Int32
    /// The kernel's command name (comm), at most 15 bytes.
    public var name: String
    /// The executable; ends in ` (deleted)` when the file is gone from disk — worth a look.
    public var exe: String?
    public var cmdline: [String]
    public var uid: UInt32
    public var user: String?
    /// The systemd unit, when the cgroup path names one.
    public var unit: String?
    /// `runtime://id` (docker, containerd, cri-o, podman, lxc, kubernetes).
    public var container: String?

    public init(pid: Int32, name: String, exe: String?, cmdline: [String], uid: UInt32, user: String?,
                unit: String?, container: String?) {
        self.pid = pid
        self.name = name
        self.exe = exe
        self.cmdline = cmdline
        self.uid = uid
        self.user = user
        self.unit = unit
        self.container = container
    }

    enum CodingKeys: String, CodingKey {
        case pid, name, exe, cmdline, uid, user, unit, container
    }
}

extension Owner: WireEncodable {
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.pid); w.value(pid)
        w.key(CodingKeys.name); w.value(name)
        w.key(CodingKeys.exe); w.value(exe)
        w.key(CodingKeys.cmdline); w.value(cmdline)
        w.key(CodingKeys.uid); w.value(uid)
        w.key(CodingKeys.user); w.value(user)
        w.key(CodingKeys.unit); w.value(unit)
        w.key(CodingKeys.container); w.value(container)
        w.endObject()
    }
}

/// A TCP or UDP socket held by processes but in no table the scan read, that could
/// not be asked directly either.
public struct UnresolvedSocket: Codable, Equatable, Sendable {
    public var inode: UInt64
    /// What the socket calls itself (`TCP`, `UDPv6`…), when it said.
    public var kind: String?
    public var processes: [Owner]
    public var reason: String

    public init(inode: UInt64, kind: String?, processes: [Owner], reason: String) {
        self.inode = inode
        self.kind = kind
        self.processes = processes
        self.reason = reason
    }

    enum CodingKeys: String, CodingKey {
        case inode, kind, processes, reason
    }
}

extension UnresolvedSocket: WireEncodable {
    public func write(to w: inout JSONWriter) {
        w.beginObject()
        w.key(CodingKeys.inode); w.value(inode)
        w.key(CodingKeys.kind); w.value(kind)
        w.key(CodingKeys.processes); w.value(processes)
        w.key(CodingKeys.reason); w.value(reason)
        w.endObject()
    }
}
