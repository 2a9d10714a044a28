import Foundation
import Glibc

/// A small tmpfs mounted for the test, unmounted after: where a disk can really fill (the
/// collector's database, a state file's write). Refused, with why, where the kernel or
/// the sandbox refuses the mount.
public struct SmallDisk: ~Copyable {
    public let path: String

    public init(megabytes: Int) throws(SmallDiskRefused) {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("pw-small-disk-\(UUID().uuidString)").path
        guard mkdir(path, 0o700) == 0 else { throw SmallDiskRefused(reason: String(cString: strerror(errno))) }
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(megabytes)m,mode=0700") == 0 else {
            let reason = String(cString: strerror(errno))
            rmdir(path)
            throw SmallDiskRefused(reason: "mount -t tmpfs: \(reason)")
        }
    }

    /// Writes a file until the disk refuses more (ENOSPC); returns how many bytes it took.
    public func fill(_ name: String) -> Int {
        let fd = open(path + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0x55, count: 4096)
        var total = 0
        while true {
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written <= 0 { return total }
            total += written
        }
    }

    deinit {
        umount2(path, Int32(MNT_DETACH))
        rmdir(path)
    }

    /// Whether this machine lets the tests mount a tmpfs (root, and not refused by a sandbox).
    public static let available: Bool = (try? SmallDisk(megabytes: 1)) != nil
}

public struct SmallDiskRefused: Error { public let reason: String }
