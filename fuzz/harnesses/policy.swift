import Policy

/// The policy loader. The first byte decides which file the rest is (rules, catalog,
/// inventory, waivers, a test file); a policy or diagnostics with positions, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let paths = ["rules.yaml", "catalog.yaml", "inventory.yaml", "waivers.yaml", "tests/case.yaml"]
    let path = paths[Int(data[0]) % paths.count]
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let load = PolicySet.load([PolicySource(path: path, bytes: bytes)], today: Day(ordinal: 20_000))
    for diagnostic in load.diagnostics { precondition(diagnostic.line >= 0 && diagnostic.column >= 0 && !diagnostic.message.isEmpty) }
    return 0
}
