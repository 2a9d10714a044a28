import PortwardenModel

/// The four socket tables `/proc/net/{tcp,tcp6,udp,udp6}`, which share one layout:
/// `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …`.
public enum NetTable: String, CaseIterable, Sendable {
    case tcp, tcp6, udp, udp6

    public var isTCP: Bool { self == .tcp || self == .tcp6 }
    public var isIPv6: Bool { self == .tcp6 || self == .udp6 }

    /// `st` of a listening TCP socket (TCP_LISTEN).
    public static let tcpListen: UInt8 = 0x0A
    /// `st` of an unconnected UDP socket (TCP_CLOSE; `ss` calls it UNCONN).
    public static let udpUnconnected: UInt8 = 0x07
}

/// One socket row of a table.
public struct NetTableEntry: Equatable, Sendable {
    public var localAddress: IPAddress
    public var localPort: UInt16
    public var remoteAddress: IPAddress
    public var remotePort: UInt16
    public var state: UInt8
    public var uid: UInt32
    public var inode: UInt64

    /// A TCP socket in LISTEN, or a UDP socket bound to a port and connected to nothing.
    public func isListener(in table: NetTable) -> Bool {
        table.isTCP ? state == NetTable.tcpListen
            : state == NetTable.udpUnconnected && localPort != 0 && remotePort == 0
    }
}

extension NetTable {
    /// Every row of a table file. The parser is strict: a row it cannot read is
    /// returned as an error naming `file` and the line, never guessed at.
    public static func parse(_ bytes: [UInt8], table: NetTable, file: String)
        -> (entries: [NetTableEntry], errors: [ParseError])
    {
        var parser = NetTableParser(table: table, file: file)
        var entries: [NetTableEntry] = []
        bytes.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != 0x0A { end += 1 }
                if let entry = parser.consume(UnsafeBufferPointer(rebasing: all[start..<end])) { entries.append(entry) }
                start = end + 1
            }
        }
        return (entries, parser.errors)
    }

    public struct RowError: Error, Equatable { public let message: String }

    /// One data row; pure, so it can be tested on its own.
    public static func parseRow(_ row: UnsafeBufferPointer<UInt8>, table: NetTable)
        -> Result<NetTableEntry, RowError>
    {
        var fields = FieldCursor(row)
        guard let sl = fields.next(), sl.last == UInt8(ascii: ":"), sl.count > 1,
              Hex.decimal(UnsafeBufferPointer(rebasing: sl.dropLast())) != nil
        else { return .failure(RowError(message: "expected a slot number like \"0:\"")) }
        guard let localField = fields.next(), let remoteField = fields.next(),
              let stateField = fields.next()
        else { return .failure(RowError(message: "expected local and remote addresses and a state")) }
        guard let (local, localPort) = endpoint(localField, ipv6: table.isIPv6) else {
            return .failure(RowError(message: "expected local_address as \(table.isIPv6 ? 32 : 8) hex digits, ':' and a 4-digit hex port"))
        }
        guard let (remote, remotePort) = endpoint(remoteField, ipv6: table.isIPv6) else {
            return .failure(RowError(message: "expected rem_address as \(table.isIPv6 ? 32 : 8) hex digits, ':' and a 4-digit hex port"))
        }
        guard stateField.count == 2, let state = Hex.value(stateField) else {
            return .failure(RowError(message: "expected st as 2 hex digits"))
        }
        _ = fields.next(); _ = fields.next(); _ = fields.next()  // tx:rx, tr:when, retrnsmt
        guard let uidField = fields.next(), let uid = Hex.decimal(uidField), uid <= UInt32.max else {
            return .failure(RowError(message: "expected a decimal uid in column 8"))
        }
        _ = fields.next()  // timeout
        guard let inodeField = fields.next(), let inode = Hex.decimal(inodeField) else {
            return .failure(RowError(message: "expected a decimal inode in column 10"))
        }
        return .success(NetTableEntry(localAddress: local, localPort: localPort, remoteAddress: remote,
                                      remotePort: remotePort, state: UInt8(state), uid: UInt32(uid), inode: inode))
    }

    /// `0100007F:0016`: the address is the kernel's 32-bit words printed in host byte
    /// order, the port a plain number.
    static func endpoint(_ field: UnsafeBufferPointer<UInt8>, ipv6: Bool) -> (IPAddress, UInt16)? {
        let digits = ipv6 ? 32 : 8
        guard field.count == digits + 5, field[digits] == UInt8(ascii: ":"),
              let port = Hex.value(UnsafeBufferPointer(rebasing: field[(digits + 1)...]))
        else { return nil }
        // Each 8-digit word is a 32-bit value whose bytes, in this machine's order, are
        // the address's bytes in network order.
        func word(_ index: Int) -> UInt64? {
            Hex.value(UnsafeBufferPointer(rebasing: field[(index * 8)..<(index * 8 + 8)])).map {
                UInt64(UInt32(bigEndian: UInt32(truncatingIfNeeded: $0)))
            }
        }
        let address: IPAddress
        if ipv6 {
            guard let w0 = word(0), let w1 = word(1), let w2 = word(2), let w3 = word(3) else { return nil }
            address = .v6(high: w0 << 32 | w1, low: w2 << 32 | w3)
        } else {
            guard let w = word(0) else { return nil }
            address = .v4(UInt8(truncatingIfNeeded: w >> 24), UInt8(truncatingIfNeeded: w >> 16),
                          UInt8(truncatingIfNeeded: w >> 8), UInt8(truncatingIfNeeded: w))
        }
        return (address, UInt16(port))
    }
}

/// Takes a table line by line, so a large table can be used as it is read, never held.
public struct NetTableParser {
    public let table: NetTable
    public let file: String
    /// The lines refused so far.
    public private(set) var errors: [ParseError] = []
    private var lineNumber = 0

    public init(table: NetTable, file: String) {
        self.table = table
        self.file = file
    }

    /// One line without its newline (the first must be the header): its row, or nil for
    /// the header, a blank line, or a refused line (recorded in `errors`).
    public mutating func consume(_ line: UnsafeBufferPointer<UInt8>) -> NetTableEntry? {
        lineNumber += 1
        func fail(_ reason: String) {
            errors.append(ParseError(file: file, line: lineNumber, reason: reason,
                                     text: String(decoding: line, as: UTF8.self)))
        }
        if lineNumber == 1 {
            var header = FieldCursor(line)
            if header.next().map({ String(decoding: $0, as: UTF8.self) }) != "sl" {
                fail("expected the header line starting with \"sl\"")
            }
            return nil
        }
        if line.allSatisfy({ $0 == 0x20 }) { return nil }
        switch NetTable.parseRow(line, table: table) {
        case .success(let entry): return entry
        case .failure(let reason):
            fail(reason.message)
            return nil
        }
    }
}

/// Splits a row into space-separated fields without allocating.
struct FieldCursor {
    private let row: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ row: UnsafeBufferPointer<UInt8>) { self.row = row }

    mutating func next() -> UnsafeBufferPointer<UInt8>? {
        while index < row.count && (row[index] == 0x20 || row[index] == 0x09) { index += 1 }
        guard index < row.count else { return nil }
        let start = index
        while index < row.count && row[index] != 0x20 && row[index] != 0x09 { index += 1 }
        return UnsafeBufferPointer(rebasing: row[start..<index])
    }
}

enum Hex {
    /// An uppercase or lowercase hex number of at most 16 digits.
    static func value(_ digits: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            let nibble: UInt8
            switch byte {
            case 0x30...0x39: nibble = byte - 0x30
            case 0x41...0x46: nibble = byte - 0x41 + 10
            case 0x61...0x66: nibble = byte - 0x61 + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    /// A decimal number that fits in 64 bits.
    static func decimal(_ digits: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }
}
