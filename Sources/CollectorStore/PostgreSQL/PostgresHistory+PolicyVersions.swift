import Foundation
import PostgresClient

// Policy versions and the periods each was in force (CollectorDatabase+PolicyVersions.swift).

extension PostgresHistory {
    public func recordPolicy(_ version: PolicyVersion?, at time: Int64) throws {
        try write { connection in
            // Collectors starting together under one policy would each see the old period
            // in force and each begin one: the table lock makes the second see the first's.
            try connection.execute("LOCK TABLE policyInForce IN SHARE ROW EXCLUSIVE MODE")
            if let version {
                try connection.execute("INSERT INTO policyVersion (digest, recordedAt) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                                       [version.digest, time])
                for file in version.files {
                    try connection.execute("""
                        INSERT INTO policyFile (version, path, content) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING
                        """, [version.digest, file.path, Data(file.content)])
                }
            }
            let current = try connection.query("SELECT version FROM policyInForce ORDER BY id DESC LIMIT 1").first
            guard PolicyPeriod.begins(after: try current.map { try $0.value("version") as String? }, with: version?.digest) else {
                return
            }
            try connection.execute("INSERT INTO policyInForce (since, version) VALUES ($1, $2)", [time, version?.digest])
        }
    }

    public func policyVersion(digest: String) throws -> PolicyVersion? {
        try read { connection in
            guard try !connection.query("SELECT 1 FROM policyVersion WHERE digest = $1", [digest]).isEmpty else { return nil }
            let files = try connection.query("""
                SELECT path, content FROM policyFile WHERE version = $1 ORDER BY path COLLATE "C"
                """, [digest])
            return PolicyVersion(digest: digest, files: try files.map {
                PolicyVersion.File(path: try $0.value("path"), content: Array(try $0.value("content") as Data))
            })
        }
    }

    public func policyPeriods(since: Int64, until: Int64) throws -> [PolicyPeriod] {
        try read { connection in
            let rows = try connection.query("SELECT since, version FROM policyInForce ORDER BY id")
            return PolicyPeriod.overlapping(try rows.map { (since: try $0.value("since"), version: try $0.value("version")) },
                                            since: since, until: until)
        }
    }
}
