/// The `kind:[inode]` links procfs uses for sockets (`/proc/PID/fd/N` → `socket:[123]`)
/// and namespaces (`/proc/PID/ns/net` → `net:[4026531840]`).
public enum InodeLink {
    /// The inode in `bytes` when it reads exactly `kind:[digits]`, else nil.
    public static func inode(_ bytes: UnsafeBufferPointer<UInt8>, kind: StaticString) -> UInt64? {
        let prefix = UnsafeBufferPointer(start: kind.utf8Start, count: kind.utf8CodeUnitCount)
        let open = prefix.count, close = bytes.count - 1
        guard bytes.count > open + 3, bytes[open] == UInt8(ascii: ":"), bytes[open + 1] == UInt8(ascii: "["),
              bytes[close] == UInt8(ascii: "]"), bytes.starts(with: prefix)
        else { return nil }
        return Hex.decimal(UnsafeBufferPointer(rebasing: bytes[(open + 2)..<close]))
    }

    public static func inode(_ bytes: [UInt8], kind: StaticString) -> UInt64? {
        bytes.withUnsafeBufferPointer { inode($0, kind: kind) }
    }
}
