import Dispatch
import Glibc

/// Runs `work` over `items` dealt round-robin into `lanes` shares on that many threads,
/// returning each share's result in lane order. /proc reads are kernel-bound and scale across
/// processes, so two lanes nearly halve a scan's wall time on a busy host.
func inLanes<Item: Sendable, Result>(_ items: [Item], lanes: Int, _ work: ([Item]) -> Result) -> [Result] {
    let lanes = max(1, min(lanes, items.count))
    if lanes == 1 { return [work(items)] }
    let slots = UnsafeMutableBufferPointer<Result?>.allocate(capacity: lanes)
    slots.initialize(repeating: nil)
    defer { slots.deinitialize(); slots.deallocate() }
    withoutActuallyEscaping(work) { work in
        nonisolated(unsafe) let work = work
        nonisolated(unsafe) let slots = slots
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            let share = stride(from: lane, to: items.count, by: lanes).map { items[$0] }
            slots[lane] = work(share)  // each lane writes only its own slot
        }
    }
    return slots.map { $0! }
}

/// Lanes to use: two at most, since a scan should not take over a host.
var scanLanes: Int {
    min(2, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
}
