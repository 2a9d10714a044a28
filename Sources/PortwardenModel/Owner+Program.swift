extension Owner {
    /// The program an owner runs, pid and command line aside: what the history keeps of
    /// an owner across restarts, and what a rule's `owners` counts.
    public struct Program: Hashable, Sendable {
        public var name: String
        public var exe: String?
        public var user: String?
        public var unit: String?
        public var container: String?
    }

    public var program: Program { Program(name: name, exe: exe, user: user, unit: unit, container: container) }
}

extension Listener {
    /// How many different programs hold the socket: a daemon's forked workers count once.
    /// The history keeps owners without pids, so this is the count a rule can read the
    /// same from a snapshot and from the stored listener — and it does not move when a
    /// worker pool grows or shrinks.
    public var programCount: Int {
        guard processes.count > 1 else { return processes.count }
        return Set(processes.map(\.program)).count
    }
}
