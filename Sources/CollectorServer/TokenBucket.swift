/// A token bucket: `capacity` deep, refilled at `perSecond`, full to begin with. The
/// collector's rate limits — enrollment attempts per address, each host's reports, bytes
/// and changed listeners — all count with it. Times are monotonic seconds.
struct TokenBucket {
    let capacity: Double
    let perSecond: Double
    /// Tokens there; below zero when a charge ran into debt.
    private(set) var level: Double
    private var updated: Double

    init(capacity: Double, perSecond: Double, at now: Double) {
        self.capacity = capacity
        self.perSecond = perSecond
        level = capacity
        updated = now
    }

    mutating func refill(at now: Double) {
        guard now > updated else { return }
        level = min(capacity, level + (now - updated) * perSecond)
        updated = now
    }

    /// Takes `amount` as it is owed: the bucket may go into debt, repaid as it refills.
    mutating func charge(_ amount: Double, at now: Double) {
        refill(at: now)
        level -= amount
    }

    /// Takes one token when there is one (nil); else the whole seconds until there will be.
    mutating func takeOne(at now: Double) -> Int? {
        refill(at: now)
        guard level >= 1 else { return secondsUntilOne }
        level -= 1
        return nil
    }

    /// Whole seconds, at least 1, until a token is there (an hour when it never refills).
    var secondsUntilOne: Int {
        perSecond > 0 ? max(1, Int(((1 - level) / perSecond).rounded(.up))) : 3_600
    }

    /// Whether it would be full at `now`: a fresh bucket is the same, so it may be forgotten.
    func isFull(at now: Double) -> Bool {
        level + max(0, now - updated) * perSecond >= capacity
    }
}
