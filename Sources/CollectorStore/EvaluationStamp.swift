/// What evaluating a host's findings depends on besides its own report: the policy in
/// force (its digest) and when the next waiver in it lapses. A host's state digest is
/// trusted for an unchanged report only while the stamp it was evaluated under is the one
/// in force (`HostRecord.statePolicy`, `stateUntil`): a policy reloaded, or a waiver lapsed,
/// whose re-evaluation of the fleet failed — or was made by another collector with other
/// files — makes the host's next report come in full and be evaluated.
public struct EvaluationStamp: Equatable, Sendable {
    /// The policy's digest (`PolicySet.digest`).
    public var policy: String
    /// When the policy's next waiver lapses, in seconds since the epoch; nil: none does.
    public var until: Int64?

    public init(policy: String, until: Int64?) {
        self.policy = policy
        self.until = until
    }
}
