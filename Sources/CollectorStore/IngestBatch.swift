/// Several reports stored in one transaction, each as if alone, with the refusals that
/// arrived between them recorded in their places (`HistoryStore.ingest`): the order and
/// the outcomes, whatever store writes them. Each store supplies its transaction, its
/// savepoint around one report, and its SQL.
struct IngestBatch {
    let requests: [IngestRequest]
    /// A report whose time cannot be read fails before any transaction.
    private var results: [Result<IngestOutcome, any Error>?]
    private var prepared: [(index: Int, collectedAt: Int64)] = []

    init(_ requests: [IngestRequest]) {
        self.requests = requests
        results = Array(repeating: nil, count: requests.count)
        for (i, request) in requests.enumerated() {
            do {
                prepared.append((i, try request.preparedTime()))
            } catch {
                results[i] = .failure(error)
            }
        }
    }

    /// Inside the store's transaction (run again whole if the store retries it): each
    /// refusal through `record` before the report at its `before`, each report through
    /// `store`, which runs it in a savepoint of its own. A report's error is its result;
    /// one that says "the storage" (`StorageUnavailable`) fails the whole batch.
    func store(refusals: [(before: Int, refusal: HostRefusal)], record: (HostRefusal) throws -> Void,
               store: (IngestRequest, _ collectedAt: Int64) throws -> IngestOutcome)
        throws -> [(index: Int, result: Result<IngestOutcome, any Error>)] {
        var refusals = refusals[...]
        func recordRefusals(before index: Int) throws {
            while let next = refusals.first, next.before <= index {
                try record(next.refusal)
                refusals.removeFirst()
            }
        }
        let stored = try prepared.map { item in
            try recordRefusals(before: item.index)
            do {
                let outcome = try store(requests[item.index], item.collectedAt)
                return (item.index, Result<IngestOutcome, any Error>.success(outcome))
            } catch {
                // The database may have rolled back everything (SQLite), or the connection
                // is gone or lost a deadlock (PostgreSQL, which retries): the batch fails whole.
                if StorageUnavailable(error) != nil { throw error }
                return (item.index, .failure(error))
            }
        }
        try recordRefusals(before: requests.count)
        return stored
    }

    /// Every report's result, in the batch's order.
    func results(_ stored: [(index: Int, result: Result<IngestOutcome, any Error>)]) -> [Result<IngestOutcome, any Error>] {
        var results = self.results
        for (index, result) in stored { results[index] = result }
        return results.map { $0! }
    }
}
