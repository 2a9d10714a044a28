import Foundation
internal import GRDB

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
            let current = try Row.fetchOne(db, sql: "SELECT version FROM policyInForce ORDER BY id DESC LIMIT 1")
            guard PolicyPeriod.begins(after: current.map { $0["version"] as String? }, with: version?.digest) else { return }
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
            let rows = try Row.fetchAll(db, sql: "SELECT since, version FROM policyInForce ORDER BY id")
            return PolicyPeriod.overlapping(rows.map { (since: $0["since"], version: $0["version"]) }, since: since, until: until)
        }
    }
}
