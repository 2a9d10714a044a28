import Foundation
@testable import HostScan
import PortwardenModel
import ProcFS

/// A procfs-shaped tree made at test time, for fixtures too large or too many to keep in
/// the repository: thousands of listeners, megabyte command lines. Removed on deinit.
final class GeneratedProc {
    static let hostNetns: UInt64 = 4026531840
    let root: String
    private var rows: [String: [String]] = ["tcp": [], "tcp6": [], "udp": [], "udp6": []]
    private var nextInode: UInt64 = 10_000

    init() throws {
        // In memory when there is a tmpfs: thousands of small files, written and read once.
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : FileManager.default.temporaryDirectory.path
        root = base + "/portwarden-proc-\(UUID().uuidString)"
        try process(1, name: "systemd", uid: 0, cmdline: Array("/sbin/init\0".utf8))
        try write("sys/kernel/hostname", "generated-host\n")
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    var procfs: ProcFS { ProcFS(root: root) }

    func scan(_ redaction: Redaction = Redaction()) throws -> Snapshot {
        try flush()
        return try ListenerScan(procfs: procfs, redaction: redaction).run()
    }

    /// A process holding `sockets` (inodes) as descriptors 3, 4, …
    func process(_ pid: Int32, name: String, uid: UInt32, cmdline: [UInt8], sockets: [UInt64] = [],
                 exe: String = "/usr/bin/fixture") throws {
        try write("\(pid)/status", "Name:\t\(name)\nUmask:\t0022\nPid:\t\(pid)\nUid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)\n")
        try write("\(pid)/cmdline", cmdline)
        try write("\(pid)/cgroup", "0::/system.slice/fixture.service\n")
        try link("\(pid)/exe", to: exe)
        try holder(pid, sockets: sockets)
    }

    /// A process that only holds `sockets`: no status, cmdline or exe to read.
    func holder(_ pid: Int32, sockets: [UInt64]) throws {
        try link("\(pid)/ns/net", to: "net:[\(Self.hostNetns)]")
        try FileManager.default.createDirectory(atPath: root + "/\(pid)/fd", withIntermediateDirectories: true)
        for (fd, inode) in sockets.enumerated() { try link("\(pid)/fd/\(fd + 3)", to: "socket:[\(inode)]") }
    }

    /// A listening socket in the host's tables; its inode.
    @discardableResult
    func listener(_ transport: Transport = .tcp, port: UInt16, uid: UInt32, loopback: Bool = false) -> UInt64 {
        nextInode += 1
        let table = transport == .tcp ? "tcp" : "udp"
        let address = loopback ? "0100007F" : "00000000"
        let state = transport == .tcp ? "0A" : "07"
        let port = String(port, radix: 16, uppercase: true)
        let row = "\(rows[table]!.count): \(address):\(String(repeating: "0", count: 4 - port.count) + port) 00000000:0000 "
            + "\(state) 00000000:00000000 00:00000000 00000000 \(uid) 0 \(nextInode) 1 0000000000000000 100 0 0 10 0"
        rows[table]!.append(row)
        return nextInode
    }

    private func flush() throws {
        for (table, lines) in rows {
            let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
            try write("1/net/\(table)", header + lines.map { "  " + $0 + "\n" }.joined())
        }
    }

    func write(_ relative: String, _ text: String) throws { try write(relative, Array(text.utf8)) }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        let url = URL(fileURLWithPath: root + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    private func link(_ relative: String, to target: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }
}
