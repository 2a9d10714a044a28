import CollectorClient
import OpenSSLTLS
import PortwardenModel

/// Sends spooled snapshots to the collector, oldest first, removing each once the
/// collector has acknowledged it. Stops at the first that cannot be delivered now.
public struct Delivery: Sendable {
    public let spool: Spool
    public let connection: CollectorConnection

    public init(spool: Spool, connection: CollectorConnection) {
        self.spool = spool
        self.connection = connection
    }

    public struct Result: Sendable, Equatable {
        public var delivered = 0
        /// Never to be delivered — refused for good (4xx) or not a snapshot at all — and
        /// set aside in the spool's `rejected/`, so one bad file does not block the rest.
        public var rejected: [String] = []
        public var remaining = 0
        /// Why delivery stopped, when it did.
        public var stoppedBy: String?
    }

    public func run() -> Result {
        var result = Result()
        let waiting = spool.entries()
        func setAside(_ entry: Spool.Entry, _ why: String) {
            let kept = spool.setAside(entry).map { "kept as \($0)" } ?? "deleted: it could not be moved"
            result.rejected.append("snapshot \(entry.sequence): \(why); \(kept)")
        }
        for (index, entry) in waiting.enumerated() {
            do {
                let body = try spool.read(entry)
                // A file the wire reader cannot read (a torn write, a disk error, junk put
                // there) would only be refused: it never goes on the wire.
                do { _ = try Snapshot(wire: body) } catch {
                    setAside(entry, "not a snapshot, \(error)")
                    continue
                }
                let response = try connection.post("/v1/reports", body: body)
                switch response.status {
                case 200..<300:
                    spool.remove(entry)
                    result.delivered += 1
                case 408, 429, 500...:
                    result.stoppedBy = "collector answered \(response.status): \(response.text)"
                default:
                    // The collector will never take this one (not ours, a schema it does not
                    // read): set it aside with the reason rather than retry forever.
                    setAside(entry, "the collector answered \(response.status) \(response.text)")
                }
            } catch {
                result.stoppedBy = "\(error)"
            }
            if result.stoppedBy != nil {
                result.remaining = waiting.count - index
                return result
            }
        }
        return result
    }
}
