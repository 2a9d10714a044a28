import Glibc
import Synchronization

/// A wall clock (seconds since the epoch) that moves only when a test says: for code that
/// waits as a server asked (Retry-After) without the test waiting too.
public final class ManualClock: Sendable {
    private let seconds: Mutex<Int>

    public init(_ start: Int = Int(time(nil))) { seconds = Mutex(start) }

    public var now: Int { seconds.withLock { $0 } }

    public func advance(by delta: Int) { seconds.withLock { $0 += delta } }
}
