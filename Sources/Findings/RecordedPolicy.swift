import CollectorStore
import Policy

/// The link between a finding and the policy that produced it: a policy as the store
/// records it (its files, addressed by the digest every finding carries), and back.
extension PolicyVersion {
    /// The files `policy` was loaded from.
    public init(_ policy: PolicySet) {
        self.init(digest: policy.digest, files: policy.files.map { PolicyVersion.File(path: $0.path, content: $0.bytes) })
    }

    /// The files as policy sources; messages name them by version and path.
    public var sources: [PolicySource] {
        files.map { PolicySource(path: $0.path, displayPath: "policy \(digest.prefix(12)) \($0.path)", bytes: $0.content) }
    }
}

extension HistoryStore {
    /// Records what evaluates from `time` on: `policy`, or none.
    public func recordPolicy(_ policy: PolicySet?, at time: Int64) throws {
        try recordPolicy(policy.map(PolicyVersion.init), at: time)
    }

    /// The recorded version `digest`, compiled as it was when in force; nil when it was
    /// never recorded. `today` dates its waivers' warnings, which nobody reads here.
    public func recordedPolicy(_ digest: String, today: Day) throws -> PolicySet? {
        guard let version = try policyVersion(digest: digest) else { return nil }
        return PolicySet.load(version.sources, today: today, assignedTags: try assignedTags()).policy
    }
}
