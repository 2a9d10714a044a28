import Glibc
import StateFiles

/// The state digest (`Snapshot.stateDigest`) of the last snapshot a collector
/// acknowledged, in the spool's directory: a later snapshot with the same digest is sent
/// as an unchanged report. Losing it costs one full report; a stale one (a state directory
/// restored from a backup) only a 409 and the full report after it.
struct AcknowledgedState: Sendable {
    let path: String

    var digest: String? {
        guard let text = try? StateFile.read(path, followingLinks: false) else { return nil }
        let digest = text.trimmingSuffix(while: { $0 == "\n" })
        return digest.utf8.count == 64 ? digest : nil
    }

    /// Kept for the next report; a write that fails only means a full report next time.
    func remember(_ digest: String) {
        try? StateFile.write(digest + "\n", to: path, mode: 0o600)
    }

    func forget() { unlink(path) }
}

private extension String {
    func trimmingSuffix(while isTrimmed: (Character) -> Bool) -> String {
        var text = self
        while let last = text.last, isTrimmed(last) { text.removeLast() }
        return text
    }
}
