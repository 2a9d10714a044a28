import Glibc
import Testing
@testable import ProcFS
import PortwardenModel

/// The netlink rows, built byte by byte as the kernel sends them, and the live kernel
/// checked against its own /proc tables.
struct SockDiagTests {
    /// One `nlmsghdr` of `type` with `payload`, padded to 4 bytes as netlink aligns them.
    func message(type: UInt16, _ payload: [UInt8]) -> [UInt8] {
        var bytes = withUnsafeBytes(of: UInt32(16 + payload.count)) { Array($0) }
        bytes += withUnsafeBytes(of: type) { Array($0) } + [0, 0] + [UInt8](repeating: 0, count: 8) + payload
        return bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4)
    }

    /// `struct inet_diag_msg`: ports big-endian, addresses as bytes, uid and inode host order.
    func diagRow(family: Int32 = AF_INET, state: UInt8, localPort: UInt16, local: [UInt8], remotePort: UInt16 = 0,
                 remote: [UInt8] = [], uid: UInt32, inode: UInt32) -> [UInt8] {
        func padded(_ address: [UInt8]) -> [UInt8] { address + [UInt8](repeating: 0, count: 16 - address.count) }
        var row: [UInt8] = [UInt8(family), state, 0, 0]
        row += [UInt8(localPort >> 8), UInt8(localPort & 0xFF), UInt8(remotePort >> 8), UInt8(remotePort & 0xFF)]
        row += padded(local) + padded(remote) + [UInt8](repeating: 0, count: 12)  // interface, cookie
        row += [UInt8](repeating: 0, count: 12)  // expires, rqueue, wqueue
        return row + withUnsafeBytes(of: uid) { Array($0) } + withUnsafeBytes(of: inode) { Array($0) }
    }

    func parse(_ bytes: [UInt8], tcp: Bool = true) -> (SockDiag.Batch, [NetTableEntry], [NetTable]) {
        var entries: [NetTableEntry] = [], tables: [NetTable] = []
        let batch = bytes.withUnsafeBufferPointer {
            SockDiag.parse($0, tcp: tcp) { table, entry in tables.append(table); entries.append(entry) }
        }
        return (batch, entries, tables)
    }

    @Test func rowsAreReadAsTheProcTablesReadThem() throws {
        let bytes = message(type: 20, diagRow(state: 0x0A, localPort: 631, local: [127, 0, 0, 1], uid: 1000, inode: 4242))
            + message(type: 20, diagRow(state: 0x07, localPort: 53, local: [], remotePort: 0, uid: 0, inode: 77))
        let (batch, entries, tables) = parse(bytes)
        #expect(batch == .more)
        #expect(tables == [.tcp, .tcp])
        try #require(entries.count == 2)
        #expect(entries[0] == NetTableEntry(localAddress: .v4(127, 0, 0, 1), localPort: 631, remoteAddress: .v4(0, 0, 0, 0),
                                            remotePort: 0, state: 0x0A, uid: 1000, inode: 4242))
        #expect(entries[0].isListener(in: .tcp))
        #expect(entries[1].localPort == 53 && entries[1].inode == 77)
    }

    @Test func ipv6AddressesAreBytesInNetworkOrder() throws {
        let loopback = [UInt8](repeating: 0, count: 15) + [1]
        let (_, entries, tables) = parse(message(type: 20, diagRow(family: AF_INET6, state: 0x07, localPort: 5353,
                                                                   local: loopback, uid: 0, inode: 9)), tcp: false)
        #expect(entries.first?.localAddress.description == "::1")
        #expect(tables == [.udp6])
        #expect(entries.first?.isListener(in: .udp6) == true)
    }

    /// The older request's answers (type 18) hold both families: each row goes to its table.
    @Test func oneTCPDumpFillsBothTables() {
        let v6 = [UInt8](repeating: 0, count: 16)
        let bytes = message(type: 18, diagRow(family: AF_INET6, state: 0x0A, localPort: 80, local: v6, uid: 0, inode: 1))
            + message(type: 18, diagRow(state: 0x0A, localPort: 80, local: [0, 0, 0, 0], uid: 0, inode: 2))
        let (_, entries, tables) = parse(bytes)
        #expect(tables == [.tcp6, .tcp])
        #expect(entries.map(\.localAddress.description) == ["::", "0.0.0.0"])
    }

    @Test func theEndAndRefusalsAreToldApart() {
        #expect(parse(message(type: 3, [0, 0, 0, 0])).0 == .done)
        #expect(parse(message(type: 2, withUnsafeBytes(of: -EPERM) { Array($0) })).0 == .failed(EPERM))
        #expect(parse(message(type: 2, withUnsafeBytes(of: Int32(0)) { Array($0) })).0 == .done)
    }

    /// A length past the datagram, or a row shorter than `inet_diag_msg`, is refused whole:
    /// the caller reads /proc instead of trusting half a table.
    @Test func malformedMessagesAreRefused() {
        var long = message(type: 20, diagRow(state: 0x0A, localPort: 1, local: [], uid: 0, inode: 1))
        long[0] = 0xFF
        #expect(parse(long).0 == .failed(EBADMSG))
        #expect(parse(message(type: 20, [0, 0, 0, 0])).0 == .failed(EBADMSG))
        #expect(parse(message(type: 20, diagRow(family: AF_UNIX, state: 1, localPort: 0, local: [], uid: 0, inode: 3))).0
                == .failed(EBADMSG))
        #expect(parse(message(type: 20, []).prefix(8).map { $0 }).0 == .more)  // a partial header is not a row
    }

    /// The kernel's netlink rows and its /proc rows are the same sockets.
    @Test func theLiveKernelAgreesWithItsProcTables() throws {
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0), udp = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(tcp); close(udp) }
        var v4 = sockaddr_in(), v6 = sockaddr_in6()
        v4.sin_family = sa_family_t(AF_INET)
        v4.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_addr = in6addr_loopback
        try #require(withUnsafePointer(to: &v4) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(tcp, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0 && listen(tcp, 1) == 0)
        try #require(withUnsafePointer(to: &v6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(udp, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } } == 0)
        func inode(_ fd: Int32) -> UInt64 { var st = stat(); fstat(fd, &st); return UInt64(st.st_ino) }

        for (table, fd) in [(NetTable.tcp, tcp), (.udp6, udp)] {
            var fromKernel: [UInt64: NetTableEntry] = [:], fromProc: [UInt64: NetTableEntry] = [:]
            try SockDiag.forEachEntry(table) { fromKernel[$0.inode] = $0 }
            _ = try ProcFS().forEachNetTableEntry(table, pid: "self") { fromProc[$0.inode] = $0 }
            let ours = try #require(fromKernel[inode(fd)], "\(table)")
            #expect(ours == fromProc[inode(fd)])
            #expect(ours.isListener(in: table))
            #expect(ours.uid == getuid())
            // Other tests open and close sockets meanwhile: compare what both saw.
            for (inode, entry) in fromKernel where inode != 0 {
                if let proc = fromProc[inode] { #expect(proc == entry, "\(table) socket \(inode)") }
            }
        }
        // Both TCP tables in one dump: our listener, in the IPv4 table.
        var both: [UInt64: NetTable] = [:]
        try SockDiag.forEachTCPEntry { table, entry in both[entry.inode] = table }
        #expect(both[inode(tcp)] == .tcp)
    }
}
