import ProcFS

/// /proc/net/{tcp,tcp6,udp,udp6}: the first byte picks the table, the rest is the file.
/// Line by line through NetTableParser (as the scanner reads), then whole; both must
/// agree, and every refused line must be reported with its number.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetTable(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let table = NetTable.allCases[Int(data[0]) % NetTable.allCases.count]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    // Split another way than NetTable.parse does, so the two cross-check each other.
    var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
    if lines.last?.isEmpty == true { lines.removeLast() }
    var parser = NetTableParser(table: table, file: "fuzz")
    var entries: [NetTableEntry] = []
    for line in lines {
        if let entry = Array(line).withUnsafeBufferPointer({ parser.consume($0) }) { entries.append(entry) }
    }
    let whole = NetTable.parse(bytes, table: table, file: "fuzz")
    precondition(whole.entries == entries && whole.errors == parser.errors, "line by line and whole disagree")
    for error in parser.errors { precondition(error.line >= 1 && !error.description.isEmpty) }
    for entry in entries { _ = entry.isListener(in: table) }
    return 0
}
