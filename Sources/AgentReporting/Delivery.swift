import CollectorClient
import Glibc
import OpenSSLTLS
import PortwardenModel

/// Sends spooled snapshots to the collector, oldest first, removing each once the
/// collector has acknowledged it. What the collector answers decides what happens next:
///
/// - 2xx: delivered, removed.
/// - 413: trimmed to the limit the answer states (`X-Portwarden-Max-Report-Bytes`; half
///   the size sent when it states none) and sent again — a host is never silent because
///   one of its processes is big.
/// - 429, 503 with Retry-After: delivery stops and pauses that long (at most an hour),
///   kept on disk so that the next run — or the next `run --once` — waits too.
/// - Other 4xx: refused for good; set aside in `rejected/`, and the rest go on.
/// - Unreachable (connect, TLS handshake): stops; everything waits.
/// - No answer, or 5xx, once the request was on the wire: stops, and counts a failure
///   against the entry — the collector may be down, or this entry may be what breaks it.
///   At `suspectAfter` failures the entry is skipped once and the next one is sent: if
///   the collector takes that one, the fault was the entry's and it is set aside (the
///   collector would now take it for a duplicate anyway); if not, delivery stops and
///   nothing is lost. So no entry blocks the ones after it for more than a few runs.
public struct Delivery: Sendable {
    public let spool: Spool
    public let connection: CollectorConnection
    /// The wall clock in seconds since the epoch; a test moves it.
    let now: @Sendable () -> Int

    public init(spool: Spool, connection: CollectorConnection, now: @escaping @Sendable () -> Int = { Int(time(nil)) }) {
        self.spool = spool
        self.connection = connection
        self.now = now
    }

    /// Failures, each in a run of its own, after which an entry is suspected.
    public static let suspectAfter = 3
    /// A spool file larger than this is set aside unread: decoding it could take more
    /// memory than the agent's unit allows (MemoryMax=64M), and this agent never writes
    /// one (it trims to `WireLimits.snapshotBytes`; an older agent might have).
    public static let maxEntryBytes = 2 * WireLimits.snapshotBytes

    public struct Result: Sendable, Equatable {
        public var delivered = 0
        /// Never to be delivered — refused for good (4xx), not a snapshot at all, or
        /// suspected and then passed by — and set aside in the spool's `rejected/`, so
        /// one bad file does not block the rest.
        public var rejected: [String] = []
        /// Snapshots sent trimmed after a 413: which, and what was trimmed.
        public var trimmed: [String] = []
        public var remaining = 0
        /// Why delivery stopped, when it did.
        public var stoppedBy: String?
        /// When the collector asked to be left alone until (Retry-After), in seconds since
        /// the epoch: no delivery is tried before then.
        public var retryAt: Int?
        /// The collector asked this host to renew its certificate now (`X-Portwarden-Renew`:
        /// its CA is being rotated).
        public var renewAsked = false
        /// The digest of the CA bundle the collector trusts now, as its last answer stated
        /// it (`X-Portwarden-CA`): when ca.pem's differs, `CAUpdate` fetches the bundle.
        public var caDigest: String?
    }

    public func run() -> Result {
        var result = deliver()
        result.remaining = spool.entries().count
        return result
    }

    private func deliver() -> Result {
        var result = Result()
        let waiting = spool.entries()
        if let pause = pause.current(now: now()) {
            result.stoppedBy = "delivery paused as the collector asked: \(pause.reason)"
            result.retryAt = pause.until
            return result
        }
        func setAside(_ entry: Spool.Entry, _ why: String) {
            let kept = spool.setAside(entry).map { "kept as \($0)" } ?? "deleted: it could not be moved"
            result.rejected.append("snapshot \(entry.sequence): \(why); \(kept)")
        }
        var suspect: (entry: Spool.Entry, why: String)?
        for entry in waiting {
            switch attempt(entry) {
            case .delivered(let trimmed, let renew, let caDigest):
                spool.remove(entry)
                if renew { result.renewAsked = true }
                if let caDigest { result.caDigest = caDigest }
                result.delivered += 1
                if let trimmed { result.trimmed.append("snapshot \(entry.sequence): \(trimmed)") }
                if let (suspected, why) = suspect {
                    setAside(suspected, "failed \(Self.suspectAfter) times (\(why)) while the next snapshot was taken")
                    suspect = nil
                }
            case .refused(let why):
                setAside(entry, why)
            case .wait(let why, let retryAfter):
                result.stoppedBy = why
                if let retryAfter {
                    let until = now() + retryAfter
                    pause.set(until: until, reason: why)
                    result.retryAt = until
                }
                return result
            case .failed(let why, let reached):
                // Only a failure once the request was on the wire may be the entry's; a
                // skipped entry's successor proves nothing when it fails too.
                if reached, suspect == nil, entry != waiting.last,
                   (try? spool.recordFailure(entry)).map({ $0 >= Self.suspectAfter }) == true {
                    suspect = (entry, why)
                    continue
                }
                result.stoppedBy = why
                return result
            }
        }
        return result
    }

    enum Attempt {
        /// With what was trimmed, when it had to be; whether the answer asked to renew; the
        /// CA bundle digest it stated.
        case delivered(trimmed: String?, renew: Bool, caDigest: String?)
        case refused(String)
        case wait(String, retryAfter: Int?)
        case failed(String, reached: Bool)
    }

    /// One spooled snapshot offered to the collector, trimmed and offered again on 413.
    func attempt(_ entry: Spool.Entry) -> Attempt {
        guard entry.bytes <= Self.maxEntryBytes else {
            return .refused("\(entry.bytes) bytes, more than any snapshot this agent writes (\(Self.maxEntryBytes))")
        }
        var body: [UInt8]
        do { body = try spool.read(entry) } catch { return .refused("cannot read it: \(error)") }
        // A file the wire reader cannot read (a torn write, a disk error, junk put
        // there) would only be refused: it never goes on the wire.
        do { _ = try Snapshot(wire: body) } catch { return .refused("not a snapshot, \(error)") }
        var trimmed: String?
        // A collector that lowers its limit between two answers gets a second trim; no more.
        for _ in 0..<3 {
            let response: HTTPResponse
            do { response = try connection.post("/v1/reports", body: body) } catch let failure as RequestFailed {
                return .failed(failure.reason, reached: failure.reached)
            } catch {
                return .failed("\(error)", reached: true)
            }
            let answer = "the collector answered \(response.status): \(Self.firstLine(response.text))"
            switch response.status {
            case 200..<300:
                return .delivered(trimmed: trimmed, renew: response.headers["x-portwarden-renew"] != nil,
                                  caDigest: response.headers["x-portwarden-ca"])
            case 413:
                let limit = min(response.statedReportLimit ?? body.count / 2, body.count - 1)
                guard let snapshot = try? Snapshot(wire: body) else { return .refused(answer) }
                let report = snapshot.wire(fitting: limit)
                guard report.fits else {
                    return .refused("\(answer); even with every owner trimmed it is \(report.bytes.count) bytes, over the limit of \(limit): raise max_report_bytes")
                }
                body = report.bytes
                trimmed = report.warning
                // On disk too: a retry after an interruption sends what fits.
                try? spool.replace(entry, with: body)
            case 429, 503:
                return .wait(answer, retryAfter: response.retryAfter)
            case 400..<500 where response.status != 408:
                // The collector will never take this one (not ours, a schema it does not
                // read): set it aside with the reason rather than retry forever.
                return .refused(answer)
            default:
                return .failed(answer, reached: true)
            }
        }
        return .refused("the collector kept answering 413 to trimmed versions of it")
    }

    var pause: DeliveryPause { DeliveryPause(path: spool.directory + "/paused-until") }

    /// An answer's first line, at most 200 bytes: enough to say why, never a page.
    static func firstLine(_ text: String) -> String {
        String(text.prefix { $0 != "\n" && $0 != "\r" }.prefix(200))
    }
}
