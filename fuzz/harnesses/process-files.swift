import ProcFS

/// /proc/PID/status, cmdline and cgroup: the same bytes through all three parsers, and
/// the unit and container names read off a cgroup path. None may crash; cmdline must
/// give back as many NUL-separated arguments as there are.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProcessFiles(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if case .failure(let error) = ProcessStatus.parse(bytes, file: "status") { precondition(error.line >= 0) }
    let arguments = ProcessCmdline.parse(bytes)
    var body = bytes[...]
    if body.last == 0 { body = body.dropLast() }
    precondition(arguments.count == (body.isEmpty ? 0 : body.count(where: { $0 == 0 }) + 1))
    if case .success(let cgroup) = ProcessCgroup.parse(bytes, file: "cgroup") {
        _ = cgroup.unit
        _ = cgroup.container
    }
    return 0
}
