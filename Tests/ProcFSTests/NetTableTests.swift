import Testing
@testable import ProcFS

/// Rows as the kernel prints them, and rows it never would.
struct NetTableTests {
    static let header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"

    func row(_ text: String, _ table: NetTable) -> Result<NetTableEntry, NetTable.RowError> {
        Array(text.utf8).withUnsafeBufferPointer { NetTable.parseRow($0, table: table) }
    }

    @Test func tcpListenerOnAnyAddress() throws {
        let entry = try row("   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0000000000000000 100 0 0 10 0", .tcp).get()
        #expect(entry.localAddress == .v4(0, 0, 0, 0))
        #expect(entry.localPort == 22)
        #expect(entry.state == 0x0A)
        #expect(entry.uid == 0)
        #expect(entry.inode == 1001)
        #expect(entry.isListener(in: .tcp))
    }

    @Test func ipv4IsHostByteOrderWords() throws {
        let entry = try row("   1: 0100007F:0277 0500000A:D431 01 00000000:00000000 00:00000000 00000000  1000        0 77 1", .tcp).get()
        #expect(entry.localAddress.description == "127.0.0.1")
        #expect(entry.localPort == 631)
        #expect(entry.remoteAddress.description == "10.0.0.5")
        #expect(entry.remotePort == 0xD431)
        #expect(entry.uid == 1000)
        #expect(!entry.isListener(in: .tcp))
    }

    @Test(arguments: [
        ("00000000000000000000000000000000", "::"),
        ("00000000000000000000000001000000", "::1"),
        ("B80D0120000000000000000001000000", "2001:db8::1"),
        ("0000000000000000FFFF00000100007F", "::ffff:127.0.0.1"),
        ("000080FE00000000FF020000000F0FFE", "fe80::2ff:fe0f:f00"),
    ])
    func ipv6IsFourHostOrderWords(hex: String, text: String) throws {
        let entry = try row("   0: \(hex):1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5 1", .tcp6).get()
        #expect(entry.localAddress.description == text)
        #expect(entry.localPort == 8080)
    }

    @Test func udpBoundAndUnconnectedIsListener() throws {
        let bound = try row("  5: 00000000:006F 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1500 2 0000000000000000 0", .udp).get()
        #expect(bound.isListener(in: .udp))
        let connected = try row("  6: 0100007F:0035 0100007F:9C40 01 00000000:00000000 00:00000000 00000000   101        0 1501 2 0000000000000000 0", .udp).get()
        #expect(!connected.isListener(in: .udp))
        let tcpCloseIsNotUDP = try row("  7: 00000000:0050 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1502 2", .tcp).get()
        #expect(!tcpCloseIsNotUDP.isListener(in: .tcp))
    }

    @Test(arguments: [
        ("   1: 00000000:0016 garbage", NetTable.tcp, "expected local and remote addresses"),
        ("0 00000000:0016 00000000:0000 0A", .tcp, "slot number"),
        ("   2: 0100007F:ZZZZ 00000000:0000 0A 0:0 0:0 0 0 0 7", .tcp, "local_address as 8 hex digits"),
        ("   2: 00000000:0016 00000000:0000 0A 0:0 0:0 0 0 0 7", .tcp6, "local_address as 32 hex digits"),
        ("   2: 00000000:0016 00000000:0000 XY 0:0 0:0 0 0 0 7", .tcp, "st as 2 hex digits"),
        ("   2: 00000000:0016 00000000:0000 0A 0:0 0:0 0 root 0 7", .tcp, "decimal uid"),
        ("   2: 00000000:0016 00000000:0000 0A 0:0 0:0 0 0 0", .tcp, "decimal inode"),
        ("   2: 00000000:0016 00000000:0000 0A 0:0 0:0 0 0 0 99999999999999999999999", .tcp, "decimal inode"),
    ])
    func brokenRowsSayWhatWasExpected(text: String, table: NetTable, reason: String) {
        guard case .failure(let error) = row(text, table) else {
            Issue.record("parsed a broken row: \(text)")
            return
        }
        #expect(error.message.contains(reason), "\(error.message)")
    }

    @Test func fileErrorsNameFileAndLine() {
        let text = Self.header + "\n"
            + "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1\n"
            + "   1: nonsense\n"
            + "   2: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1003 1\n"
        let (entries, errors) = NetTable.parse(Array(text.utf8), table: .tcp, file: "/proc/1/net/tcp")
        #expect(entries.map(\.inode) == [1001, 1003])
        #expect(errors.count == 1)
        #expect(errors.first?.file == "/proc/1/net/tcp")
        #expect(errors.first?.line == 3)
        #expect(errors.first?.text == "   1: nonsense")
        #expect(errors.first?.description.hasPrefix("/proc/1/net/tcp:3: ") == true)
    }

    @Test func missingHeaderIsAnError() {
        let text = "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1\n"
        let (entries, errors) = NetTable.parse(Array(text.utf8), table: .tcp, file: "t")
        #expect(entries.isEmpty)
        #expect(errors.map(\.line) == [1])
    }

    @Test func emptyTableHasNoRows() {
        let (entries, errors) = NetTable.parse(Array((Self.header + "\n").utf8), table: .udp6, file: "t")
        #expect(entries.isEmpty && errors.isEmpty)
    }
}
