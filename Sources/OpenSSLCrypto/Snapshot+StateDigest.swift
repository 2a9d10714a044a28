import PortwardenModel

extension Snapshot {
    /// SHA-256 of the snapshot's state encoding (`Snapshot.stateEncoding`), lowercase hex:
    /// what an agent and the collector compare to tell an unchanged report.
    public var stateDigest: String { Digest.sha256(stateEncoding()) }
}
