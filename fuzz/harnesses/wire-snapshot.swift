import PortwardenModel

/// The collector's report decoder. Any bytes: a Snapshot or a WireError, never a crash.
/// What it accepts must survive a round trip through the agent's writer unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWireSnapshot(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let snapshot: Snapshot
    do { snapshot = try Snapshot(wire: bytes) } catch {
        precondition(error.offset >= 0 && error.offset <= bytes.count, "\(error)")
        return 0
    }
    var writer = JSONWriter()
    writer.value(snapshot)
    do {
        let again = try Snapshot(wire: writer.buffer)
        precondition(again == snapshot, "the round trip changed the snapshot")
    } catch {
        preconditionFailure("the writer's own output is refused: \(error)")
    }
    return 0
}
