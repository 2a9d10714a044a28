import Glibc
import PortwardenModel

/// The same four socket tables as `/proc/net/{tcp,tcp6,udp,udp6}`, asked of the kernel
/// over netlink (`NETLINK_SOCK_DIAG`, the interface `ss` uses) for the reader's own
/// network namespace. The kernel sends binary rows instead of formatting text: on
/// bench/scan-vs-ss.sh's host (3,300 listeners, a 262,144-bucket established hash) the
/// four tables cost 12–21 ms this way against 35–50 ms through /proc. Not a /proc file,
/// but it yields the rows the /proc parser does, so it lives beside it.
public enum SockDiag {
    /// Calls `body` with each socket of `table` in the calling thread's network namespace
    /// (a netlink socket answers for the namespace of the thread that made it), in every
    /// state: the scan must know every TCP/UDP socket, not only listeners, to tell which
    /// descriptors no table holds. Throws when netlink refuses or a message is malformed;
    /// the caller then reads /proc instead.
    public static func forEachEntry(_ table: NetTable, _ body: (NetTableEntry) -> Void) throws(ProcFSError) {
        let name = "sock_diag \(table.rawValue)"
        let sock = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkSockDiag)
        guard sock >= 0 else { throw ProcFSError(path: name, errno: errno) }
        defer { close(sock) }
        var request = Self.request(table)
        let sent = request.withUnsafeMutableBytes { send(sock, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { throw ProcFSError(path: name, errno: sent < 0 ? errno : EIO) }
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32 << 10) { buffer throws(ProcFSError) in
            while true {
                let n = recv(sock, buffer.baseAddress, buffer.count, 0)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ProcFSError(path: name, errno: errno)
                }
                guard n > 0 else { throw .system(name, errno: EIO) }  // closed before NLMSG_DONE
                switch parse(UnsafeBufferPointer(rebasing: buffer[0..<n]), table: table, body) {
                case .more: continue
                case .done: return
                case .failed(let code): throw .system(name, errno: code)
                }
            }
        }
    }

    /// What one datagram of a dump said: more to come, the end, or an error (errno).
    public enum Batch: Equatable { case more, done, failed(Int32) }

    /// One datagram of netlink messages; pure, so it can be tested on bytes.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, table: NetTable,
                             _ body: (NetTableEntry) -> Void) -> Batch {
        var offset = 0
        while offset + headerSize <= bytes.count {
            let length = Int(u32(bytes, offset)), type = u16(bytes, offset + 4)
            guard length >= headerSize, offset + length <= bytes.count else { return .failed(EBADMSG) }
            let payload = offset + headerSize
            switch type {
            case messageDone: return .done
            case messageError:
                guard length >= headerSize + 4 else { return .failed(EBADMSG) }
                let code = -Int32(bitPattern: u32(bytes, payload))
                return code == 0 ? .done : .failed(code)
            case sockDiagByFamily:
                guard length >= headerSize + diagMessageSize else { return .failed(EBADMSG) }
                body(entry(bytes, at: payload, table: table))
            default:
                break  // NLMSG_NOOP and the like carry no row
            }
            offset += (length + 3) & ~3
        }
        return .more
    }

    /// `struct inet_diag_msg`: family, state, timer, retrans, then `inet_diag_sockid`
    /// (ports in network order, addresses as bytes in network order), then uid and inode.
    private static func entry(_ bytes: UnsafeBufferPointer<UInt8>, at base: Int, table: NetTable) -> NetTableEntry {
        func address(_ at: Int) -> IPAddress {
            table.isIPv6 ? .v6(Array(bytes[(base + at)..<(base + at + 16)]))
                : .v4(bytes[base + at], bytes[base + at + 1], bytes[base + at + 2], bytes[base + at + 3])
        }
        func port(_ at: Int) -> UInt16 { UInt16(bytes[base + at]) << 8 | UInt16(bytes[base + at + 1]) }
        return NetTableEntry(localAddress: address(8), localPort: port(4), remoteAddress: address(24),
                             remotePort: port(6), state: bytes[base + 1], uid: u32(bytes, base + 64),
                             inode: UInt64(u32(bytes, base + 68)))
    }

    /// `nlmsghdr` + `inet_diag_req_v2` asking for a dump of every socket of one family
    /// and protocol, in every state.
    static func request(_ table: NetTable) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: headerSize + 56)
        func put32(_ value: UInt32, at offset: Int) { withUnsafeBytes(of: value) { bytes.replaceSubrange(offset..<offset + 4, with: $0) } }
        put32(UInt32(bytes.count), at: 0)
        withUnsafeBytes(of: sockDiagByFamily) { bytes.replaceSubrange(4..<6, with: $0) }
        withUnsafeBytes(of: UInt16(requestFlags)) { bytes.replaceSubrange(6..<8, with: $0) }
        bytes[headerSize] = UInt8(table.isIPv6 ? AF_INET6 : AF_INET)
        bytes[headerSize + 1] = UInt8(table.isTCP ? IPPROTO_TCP : IPPROTO_UDP)
        put32(UInt32.max, at: headerSize + 4)  // idiag_states: all
        return bytes
    }

    /// Netlink headers, uid and inode are in the host's byte order.
    private static func u32(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        UnsafeRawBufferPointer(bytes).loadUnaligned(fromByteOffset: at, as: UInt32.self)
    }

    private static func u16(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt16 {
        UnsafeRawBufferPointer(bytes).loadUnaligned(fromByteOffset: at, as: UInt16.self)
    }

    // From <linux/netlink.h>, <linux/sock_diag.h> and <linux/inet_diag.h>, which Glibc
    // does not bring in.
    static let headerSize = 16
    static let diagMessageSize = 72
    static let netlinkSockDiag: Int32 = 4
    static let sockDiagByFamily: UInt16 = 20
    static let messageError: UInt16 = 2
    static let messageDone: UInt16 = 3
    static let requestFlags = 0x1 | 0x300  // NLM_F_REQUEST | NLM_F_DUMP
}
