import Foundation
import PortwardenModel
import PostgresClient

// STUBS: replaced by the PostgreSQL implementation (issue 15).
extension PostgresHistory {
    public func ingest(_ batch: [IngestRequest], refusals: [(before: Int, refusal: HostRefusal)], findings: FindingEvaluator?, clock: ReportClock?) throws -> [Result<IngestOutcome, any Error>] {
        throw StoreError(description: "ingest is not built on PostgreSQL yet")
    }

    public func ingest(_ request: IngestRequest, findings: FindingEvaluator?, clock: ReportClock?) async throws -> IngestOutcome {
        throw StoreError(description: "ingest is not built on PostgreSQL yet")
    }

    public func record(refusals: [HostRefusal]) throws {
        throw StoreError(description: "record is not built on PostgreSQL yet")
    }

    public func reevaluateFindings(at now: Date, evaluate: FindingEvaluator) throws -> FindingChanges {
        throw StoreError(description: "reevaluateFindings is not built on PostgreSQL yet")
    }

    public func openFindings(host: String) throws -> [FindingInterval] {
        throw StoreError(description: "openFindings is not built on PostgreSQL yet")
    }

    public func findingHistory(host: String) throws -> [FindingInterval] {
        throw StoreError(description: "findingHistory is not built on PostgreSQL yet")
    }

    public func openFindingCounts() throws -> [String: Int] {
        throw StoreError(description: "openFindingCounts is not built on PostgreSQL yet")
    }

    public func currentRefusals() throws -> [String: HostRefusal] {
        throw StoreError(description: "currentRefusals is not built on PostgreSQL yet")
    }

    public func importHistory(_ histories: [HostHistory]) throws {
        throw StoreError(description: "importHistory is not built on PostgreSQL yet")
    }
}
