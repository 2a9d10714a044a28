/// What the store keeps of policies, and the two rules about periods both stores
/// follow: when a new period begins, and which periods a span of time saw.

/// A policy as the collector evaluated with it: its files' content, addressed by their
/// digest (the one each finding carries). The store knows no policy: the Policy module
/// computes the digest and reads the files back.
public struct PolicyVersion: Equatable, Sendable {
    public struct File: Equatable, Sendable {
        /// Relative to the policy directory (`legacy-ports.yaml`): it decides what the file is.
        public var path: String
        public var content: [UInt8]

        public init(path: String, content: [UInt8]) {
            self.path = path
            self.content = content
        }
    }

    public var digest: String
    /// By path.
    public var files: [File]

    public init(digest: String, files: [File]) {
        self.digest = digest
        self.files = files
    }
}

/// One stretch of time under one policy: from `since` until the next period's start
/// (`until`, nil while in force). A nil version is a stretch evaluated under no policy.
public struct PolicyPeriod: Equatable, Sendable {
    public var since: Int64
    public var until: Int64?
    public var version: String?

    public init(since: Int64, until: Int64?, version: String?) {
        self.since = since
        self.until = until
        self.version = version
    }
}

extension PolicyPeriod {
    /// Whether recording `version` begins a new period after the one in force (`current`:
    /// nil before any was recorded; `.some(nil)` for a period under no policy). A
    /// restart under the same policy, or a reload that changed nothing the digest covers
    /// (a test file), begins none.
    static func begins(after current: String??, with version: String?) -> Bool {
        guard let current else { return true }
        return current != version
    }

    /// The periods of `recorded` (each start and version, in the order they were recorded:
    /// a clock stepped back does not reorder what was loaded when) that overlap [since,
    /// until): the one in force at `since`, and every one begun before `until`.
    static func overlapping(_ recorded: [(since: Int64, version: String?)], since: Int64, until: Int64) -> [PolicyPeriod] {
        let all = recorded.indices.map { i in
            PolicyPeriod(since: recorded[i].since, until: i + 1 < recorded.count ? recorded[i + 1].since : nil,
                         version: recorded[i].version)
        }
        return all.filter { $0.since < until && ($0.until.map { $0 > since } ?? true) }
    }
}
