import Foundation
import PortwardenModel
import PostgresClient

// STUBS: replaced by the PostgreSQL implementation (issue 15).
extension PostgresHistory {
    public func host(named name: String) throws -> HostRecord? {
        throw StoreError(description: "host is not built on PostgreSQL yet")
    }

    public func hosts(now: Int64, staleAfter window: Int64) throws -> [(host: HostRecord, stale: Bool)] {
        throw StoreError(description: "hosts is not built on PostgreSQL yet")
    }

    public func hosts(now: Int64, staleAfter window: Int64) async throws -> [(host: HostRecord, stale: Bool)] {
        throw StoreError(description: "hosts is not built on PostgreSQL yet")
    }

    public func hostCounts(now: Int64, staleAfter window: Int64) throws -> (all: Int, stale: Int, refusing: Int) {
        throw StoreError(description: "hostCounts is not built on PostgreSQL yet")
    }

    public func openListeners(host: String) throws -> [ListenerInterval] {
        throw StoreError(description: "openListeners is not built on PostgreSQL yet")
    }

    public func hostsWithOpenListeners() throws -> [(host: HostRecord, openListeners: Int)] {
        throw StoreError(description: "hostsWithOpenListeners is not built on PostgreSQL yet")
    }

    public func receiptRuns(host: String) throws -> [ReceiptRun] {
        throw StoreError(description: "receiptRuns is not built on PostgreSQL yet")
    }

    public func knowsName(_ name: String) throws -> Bool {
        throw StoreError(description: "knowsName is not built on PostgreSQL yet")
    }

    public func retire(host: String, at now: Int64, by actor: String, reason: String?) throws -> Retirement? {
        throw StoreError(description: "retire is not built on PostgreSQL yet")
    }

    public func recordPolicy(_ version: PolicyVersion?, at time: Int64) throws {
        throw StoreError(description: "recordPolicy is not built on PostgreSQL yet")
    }

    public func policyVersion(digest: String) throws -> PolicyVersion? {
        throw StoreError(description: "policyVersion is not built on PostgreSQL yet")
    }

    public func policyPeriods(since: Int64, until: Int64) throws -> [PolicyPeriod] {
        throw StoreError(description: "policyPeriods is not built on PostgreSQL yet")
    }

    public func listenerTimeline(since: Int64, host: String?) throws -> [HostTimeline] {
        throw StoreError(description: "listenerTimeline is not built on PostgreSQL yet")
    }

    public func forEachListenerInterval(since: Int64, until: Int64, _ body: (_ host: String, _ interval: ListenerInterval) throws -> Void) throws {
        throw StoreError(description: "forEachListenerInterval is not built on PostgreSQL yet")
    }

    public func forEachFindingInterval(since: Int64, until: Int64, _ body: (_ host: String, _ finding: FindingInterval) throws -> Void) throws {
        throw StoreError(description: "forEachFindingInterval is not built on PostgreSQL yet")
    }

    public func forEachReceiptRun(since: Int64, until: Int64, _ body: (_ host: String, _ run: ReceiptRun) throws -> Void) throws {
        throw StoreError(description: "forEachReceiptRun is not built on PostgreSQL yet")
    }

    public func forEachReportingSpan(since: Int64, until: Int64, _ body: (_ hostId: Int64, _ first: Int64, _ last: Int64) throws -> Void) throws {
        throw StoreError(description: "forEachReportingSpan is not built on PostgreSQL yet")
    }

    public func tag(host: String, _ tag: String, at now: Int64, by actor: String) throws {
        throw StoreError(description: "tag is not built on PostgreSQL yet")
    }

    public func untag(host: String, _ tag: String, at now: Int64, by actor: String) throws {
        throw StoreError(description: "untag is not built on PostgreSQL yet")
    }

    public func forgetTag(host: String, _ tag: String, at now: Int64, by actor: String) throws -> Bool {
        throw StoreError(description: "forgetTag is not built on PostgreSQL yet")
    }

    public func tagEdits(host: String) throws -> TagEdits {
        throw StoreError(description: "tagEdits is not built on PostgreSQL yet")
    }

    public func allTagEdits() throws -> [String: TagEdits] {
        throw StoreError(description: "allTagEdits is not built on PostgreSQL yet")
    }

    public func assignedTags() throws -> Set<String> {
        throw StoreError(description: "assignedTags is not built on PostgreSQL yet")
    }

    public func pruneReceipts(receivedBefore cutoff: Int64) throws -> Int {
        throw StoreError(description: "pruneReceipts is not built on PostgreSQL yet")
    }

    public func integrityProblems() throws -> [String] {
        throw StoreError(description: "integrityProblems is not built on PostgreSQL yet")
    }
}
