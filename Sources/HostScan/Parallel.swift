import Dispatch
import Glibc
import Synchronization

/// Runs `work` on every item using `lanes` threads that each take the next undone item,
/// and returns the results in item order. /proc reads are kernel-bound and scale across
/// processes; taking items one by one keeps both lanes busy to the end even when some
/// items (a table of thousands of sockets) cost far more than others.
func inLanes<Item: Sendable, Result>(_ items: [Item], lanes: Int, _ work: (Item) -> Result) -> [Result] {
    let lanes = max(1, min(lanes, items.count))
    if lanes == 1 { return items.map(work) }
    let slots = UnsafeMutableBufferPointer<Result?>.allocate(capacity: items.count)
    slots.initialize(repeating: nil)
    defer { slots.deinitialize(); slots.deallocate() }
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(work) { work in
        nonisolated(unsafe) let work = work
        nonisolated(unsafe) let slots = slots
        DispatchQueue.concurrentPerform(iterations: lanes) { _ in
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < items.count else { return }
                slots[index] = work(items[index])  // each item's slot is written once
            }
        }
    }
    return slots.map { $0! }
}

/// Splits `items` into runs of `size`, so per-item overhead stays small.
func batches<Item>(_ items: [Item], of size: Int) -> [[Item]] {
    stride(from: 0, to: items.count, by: size).map { Array(items[$0..<min($0 + size, items.count)]) }
}

/// Lanes to use: two at most, since a scan should not take over a host.
var scanLanes: Int {
    min(2, max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
}
