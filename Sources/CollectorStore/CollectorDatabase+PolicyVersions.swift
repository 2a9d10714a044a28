import Foundation
internal import GRDB

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

extension CollectorDatabase {
    public func recordPolicy(_ version: PolicyVersion?, at time: Int64) throws {
        try writer.write { db in
            if let version {
                try db.execute(sql: "INSERT OR IGNORE INTO policyVersion (digest, recordedAt) VALUES (?, ?)",
                               arguments: [version.digest, time])
                for file in version.files {
                    try db.execute(sql: "INSERT OR IGNORE INTO policyFile (version, path, content) VALUES (?, ?, ?)",
                                   arguments: [version.digest, file.path, Data(file.content)])
                }
            }
            // A restart under the same policy, or a reload that changed nothing the digest
            // covers (a test file), begins no new period.
            let current = try Row.fetchOne(db, sql: "SELECT version FROM policyInForce ORDER BY id DESC LIMIT 1")
            if let current, (current["version"] as String?) == version?.digest { return }
            try db.execute(sql: "INSERT INTO policyInForce (since, version) VALUES (?, ?)", arguments: [time, version?.digest])
        }
    }

    public func policyVersion(digest: String) throws -> PolicyVersion? {
        try reader.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM policyVersion WHERE digest = ?", arguments: [digest]) != nil else {
                return nil
            }
            let files = try Row.fetchAll(db, sql: "SELECT path, content FROM policyFile WHERE version = ? ORDER BY path",
                                         arguments: [digest])
            return PolicyVersion(digest: digest, files: files.map { PolicyVersion.File(path: $0["path"], content: Array($0["content"] as Data)) })
        }
    }

    public func policyPeriods(since: Int64, until: Int64) throws -> [PolicyPeriod] {
        try reader.read { db in
            // Ordered as recorded: a clock stepped back does not reorder what was loaded when.
            let rows = try Row.fetchAll(db, sql: "SELECT since, version FROM policyInForce ORDER BY id")
            let all = rows.indices.map { i in
                PolicyPeriod(since: rows[i]["since"], until: i + 1 < rows.count ? rows[i + 1]["since"] : nil, version: rows[i]["version"])
            }
            return all.filter { $0.since < until && ($0.until.map { $0 > since } ?? true) }
        }
    }
}
