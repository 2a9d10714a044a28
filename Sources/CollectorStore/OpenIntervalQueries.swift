/// The statements that read a host's open intervals on the ingest path, in one place so
/// that a test can check how SQLite runs them (`CollectorDatabase.queryPlans`).
///
/// Each names its partial index (INDEXED BY): without statistics SQLite takes the plain
/// `hostId` index instead and reads every interval the host ever had, closed ones too,
/// so a report's cost grew with the host's history — measured: a changed report's
/// ingest went from 388 to 755 µs over six 8-second runs of 200 hosts, and stays at
/// 254–290 µs with the partial index.
enum OpenIntervalQueries {
    /// Ids, identities and marks of a host's open listener intervals: most reports change
    /// nothing, and decoding every open interval whole was most of an unchanged report's cost.
    static let listenerMarks = """
        SELECT id, identity, netns, unseenSince, ownersUnseenSince FROM listenerInterval INDEXED BY listenerInterval_open
        WHERE hostId = ? AND closed IS NULL
        """
    /// A host's open listener intervals that have owners, whole.
    static let ownedListeners = """
        SELECT * FROM listenerInterval INDEXED BY listenerInterval_open
        WHERE hostId = ? AND closed IS NULL AND owners != '[]' ORDER BY id
        """
    /// A host's open listener intervals, whole, for reports.
    static let listeners = """
        SELECT * FROM listenerInterval INDEXED BY listenerInterval_open WHERE hostId = ? AND closed IS NULL ORDER BY port, id
        """
    /// Ids, identities and namespaces of a host's open findings.
    static let findings = """
        SELECT hostId, id, identity, netns FROM findingInterval INDEXED BY findingInterval_open WHERE hostId = ? AND closed IS NULL
        """

    static let all = [listenerMarks, ownedListeners, listeners, findings]
}
