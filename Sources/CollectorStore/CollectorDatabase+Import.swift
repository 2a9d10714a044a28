internal import GRDB

/// A host's whole history, to import in one go: for backfilling from another tool's
/// records, and for the benchmark's generated fleet. Host ids in the rows are ignored.
public struct HostHistory: Sendable {
    public var host: HostRecord
    public var listeners: [ListenerInterval]
    public var runs: [ReceiptRun]
    public var findings: [FindingInterval]

    public init(host: HostRecord, listeners: [ListenerInterval], runs: [ReceiptRun], findings: [FindingInterval]) {
        self.host = host
        self.listeners = listeners
        self.runs = runs
        self.findings = findings
    }
}

extension CollectorDatabase {
    /// Imports hosts with their history, in one transaction; listener intervals and
    /// receipt runs (the millions) on cached statements, as ingest writes them.
    public func importHistory(_ histories: [HostHistory]) throws {
        try writer.write { db in
            for history in histories {
                var host = history.host
                host.id = nil
                try host.insert(db)
                let hostId = host.id!
                for var interval in history.listeners {
                    interval.hostId = hostId
                    try interval.insertRow(db)
                }
                for var run in history.runs {
                    run.hostId = hostId
                    try run.insertRow(db)
                }
                for var finding in history.findings {
                    finding.id = nil
                    finding.hostId = hostId
                    try finding.insert(db)
                }
            }
        }
    }
}
