import Glibc
import PortwardenModel

/// The same four socket tables as `/proc/net/{tcp,tcp6,udp,udp6}`, asked of the kernel
/// over netlink (`NETLINK_SOCK_DIAG`, the interface `ss` uses) for the reader's own
/// network namespace. The kernel sends binary rows instead of formatting text: on
/// bench/scan-vs-ss.sh's host (3,300 listeners, a 262,144-bucket established hash) the
/// four tables cost 12 ms this way against 46–60 ms through /proc. Not a /proc file,
/// but it yields the rows the /proc parser does, so it lives beside it.
///
/// Every state is asked for, not only listeners: the scan must know every TCP/UDP socket
/// to tell which descriptors no table holds. A netlink socket answers for the network
/// namespace of the thread that made it. Each call throws when netlink refuses or a
/// message is malformed; the caller then reads /proc instead.
public enum SockDiag {
    /// Each socket of one table.
    public static func forEachEntry(_ table: NetTable, _ body: (NetTableEntry) -> Void) throws(ProcFSError) {
        try dump(request(table), name: "sock_diag \(table.rawValue)", tcp: table.isTCP) { _, entry in body(entry) }
    }

    /// Each socket of both TCP tables, with the table it is in. The kernel finds sockets
    /// in any state by walking its whole established hash (262,144 buckets on the bench
    /// host); the older request (`TCPDIAG_GETSOCK`) takes both families in one walk,
    /// where one request per family walks it twice: 10 ms against 19.
    public static func forEachTCPEntry(_ body: (NetTable, NetTableEntry) -> Void) throws(ProcFSError) {
        try dump(bothTCPRequest(), name: "sock_diag tcp", tcp: true, body)
    }

    private static func dump(_ request: [UInt8], name: String, tcp: Bool,
                             _ body: (NetTable, NetTableEntry) -> Void) throws(ProcFSError) {
        let sock = socket(AF_NETLINK, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), netlinkSockDiag)
        guard sock >= 0 else { throw ProcFSError(path: name, errno: errno) }
        defer { close(sock) }
        let sent = request.withUnsafeBytes { send(sock, $0.baseAddress, $0.count, 0) }
        guard sent == request.count else { throw ProcFSError(path: name, errno: sent < 0 ? errno : EIO) }
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32 << 10) { buffer throws(ProcFSError) in
            while true {
                let n = recv(sock, buffer.baseAddress, buffer.count, 0)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ProcFSError(path: name, errno: errno)
                }
                guard n > 0 else { throw .system(name, errno: EIO) }  // closed before NLMSG_DONE
                switch parse(UnsafeBufferPointer(rebasing: buffer[0..<n]), tcp: tcp, body) {
                case .more: continue
                case .done: return
                case .failed(let code): throw .system(name, errno: code)
                }
            }
        }
    }

    /// What one datagram of a dump said: more to come, the end, or an error (errno).
    public enum Batch: Equatable { case more, done, failed(Int32) }

    /// One datagram of netlink messages from a TCP or a UDP dump, each row with the table
    /// its family puts it in; pure, so it can be tested on bytes.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, tcp: Bool,
                             _ body: (NetTable, NetTableEntry) -> Void) -> Batch {
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
            case sockDiagByFamily, tcpDiagGetSock:
                guard length >= headerSize + diagMessageSize else { return .failed(EBADMSG) }
                let family = Int32(bytes[payload])
                guard family == AF_INET || family == AF_INET6 else { return .failed(EBADMSG) }
                let table: NetTable = tcp ? (family == AF_INET6 ? .tcp6 : .tcp) : (family == AF_INET6 ? .udp6 : .udp)
                body(table, entry(bytes, at: payload, ipv6: family == AF_INET6))
            default:
                break  // NLMSG_NOOP and the like carry no row
            }
            offset += (length + 3) & ~3
        }
        return .more
    }

    /// `struct inet_diag_msg`: family, state, timer, retrans, then `inet_diag_sockid`
    /// (ports in network order, addresses as bytes in network order), then uid and inode.
    private static func entry(_ bytes: UnsafeBufferPointer<UInt8>, at base: Int, ipv6: Bool) -> NetTableEntry {
        func address(_ at: Int) -> IPAddress {
            ipv6 ? .v6(Array(bytes[(base + at)..<(base + at + 16)]))
                : .v4(bytes[base + at], bytes[base + at + 1], bytes[base + at + 2], bytes[base + at + 3])
        }
        func port(_ at: Int) -> UInt16 { UInt16(bytes[base + at]) << 8 | UInt16(bytes[base + at + 1]) }
        return NetTableEntry(localAddress: address(8), localPort: port(4), remoteAddress: address(24),
                             remotePort: port(6), state: bytes[base + 1], uid: u32(bytes, base + 64),
                             inode: UInt64(u32(bytes, base + 68)))
    }

    /// `nlmsghdr` + `inet_diag_req_v2`: every socket of one family and protocol, in every state.
    static func request(_ table: NetTable) -> [UInt8] {
        var bytes = header(type: sockDiagByFamily, payload: 56)
        bytes[headerSize] = UInt8(table.isIPv6 ? AF_INET6 : AF_INET)
        bytes[headerSize + 1] = UInt8(table.isTCP ? IPPROTO_TCP : IPPROTO_UDP)
        put(UInt32.max, at: headerSize + 4, in: &bytes)  // idiag_states: all
        return bytes
    }

    /// `nlmsghdr` + `inet_diag_req` (the older layout, states after the socket id): every
    /// TCP socket of both families, in every state; the kernel ignores the family here.
    static func bothTCPRequest() -> [UInt8] {
        var bytes = header(type: tcpDiagGetSock, payload: 60)
        bytes[headerSize] = UInt8(AF_INET)
        put(UInt32.max, at: headerSize + 52, in: &bytes)  // idiag_states: all
        return bytes
    }

    private static func header(type: UInt16, payload: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: headerSize + payload)
        put(UInt32(bytes.count), at: 0, in: &bytes)
        withUnsafeBytes(of: type) { bytes.replaceSubrange(4..<6, with: $0) }
        withUnsafeBytes(of: requestFlags) { bytes.replaceSubrange(6..<8, with: $0) }
        return bytes
    }

    private static func put(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
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
    static let tcpDiagGetSock: UInt16 = 18
    static let sockDiagByFamily: UInt16 = 20
    static let messageError: UInt16 = 2
    static let messageDone: UInt16 = 3
    static let requestFlags: UInt16 = 0x1 | 0x300  // NLM_F_REQUEST | NLM_F_DUMP
}
