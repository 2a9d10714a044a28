import CollectorClient
import OpenSSLTLS

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
        /// Refused for good (4xx): kept out of the spool so it does not block the rest.
        public var rejected: [String] = []
        public var remaining = 0
        /// Why delivery stopped, when it did.
        public var stoppedBy: String?
    }

    public func run() -> Result {
        var result = Result()
        let waiting = spool.entries()
        for (index, entry) in waiting.enumerated() {
            do {
                let response = try connection.post("/v1/reports", body: try spool.read(entry))
                switch response.status {
                case 200..<300:
                    spool.remove(entry)
                    result.delivered += 1
                case 408, 429, 500...:
                    result.stoppedBy = "collector answered \(response.status): \(response.text)"
                default:
                    // The collector will never take this one (malformed, not ours): drop it
                    // with a reason rather than retry forever.
                    spool.remove(entry)
                    result.rejected.append("snapshot \(entry.sequence): \(response.status) \(response.text)")
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
