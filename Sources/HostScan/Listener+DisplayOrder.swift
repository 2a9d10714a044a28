import PortwardenModel

extension Listener {
    /// Port first, as people look for ports; then the rest for a stable order.
    public static func displayOrder(_ a: Listener, _ b: Listener) -> Bool {
        if a.port != b.port { return a.port < b.port }
        return (a.transport, a.family, a.address, a.netns, a.inode) < (b.transport, b.family, b.address, b.netns, b.inode)
    }

    /// Sorts `listeners` by `displayOrder`. Their indices are sorted and the listeners
    /// then moved into place once each: sorting the large values themselves copied each
    /// one (with its strings and owners) at every step of the merge, 11–25 ms of a scan
    /// for bench/scan-vs-ss.sh's 3,300, all of it while one lane waits on the other.
    static func sortForDisplay(_ listeners: inout [Listener]) {
        var order = Array(listeners.indices)
        listeners.withUnsafeBufferPointer { all in
            order.sort { displayOrder(all[$0], all[$1]) }
        }
        // Follow each cycle of the permutation: position i takes the listener at order[i].
        var placed = [Bool](repeating: false, count: order.count)
        for start in order.indices where !placed[start] {
            var position = start
            while order[position] != start {
                listeners.swapAt(position, order[position])
                placed[position] = true
                position = order[position]
            }
            placed[position] = true
        }
    }
}
