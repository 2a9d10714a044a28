import CollectorClient
import Glibc
import OpenSSLCrypto
import OpenSSLTLS
import PortwardenModel

/// Sends spooled snapshots to the collector, oldest first, removing each once the
/// collector has acknowledged it. A snapshot whose state digest is that of the last one
/// acknowledged (`AcknowledgedState`) goes as an unchanged report — its digest, not its
/// listeners — and in full, on the same connection, when the collector answers that it
/// does not hold that state (409; 404 from a collector before unchanged reports).
/// What the collector answers decides what happens next:
///
/// - 2xx: delivered, removed.
/// - 413: trimmed to the limit the answer states (`X-Portwarden-Max-Report-Bytes`; half
///   the size sent when it states none) and sent again — a host is never silent because
///   one of its processes is big.
/// - 429, 503 with Retry-After: that collector is paused that long (at most an hour),
///   kept on disk so that the next run — or the next `run --once` — leaves it alone too.
/// - Other 4xx: refused for good; set aside in `rejected/`, and the rest go on.
/// - Unreachable (connect, TLS handshake), no answer, 429/503, 5xx: the same snapshot
///   goes at once to the next collector in the list (`CollectorList`), which is kept to
///   from then on; a collector that failed is not tried again in this run. Only when
///   every one has failed does delivery stop: everything waits for the next run.
/// - No answer, or 5xx, once the request was on the wire (at any collector): counts a
///   failure against the entry — the collectors may be down, or this entry may be what
///   breaks them. On the wire means written on a connection whose handshake the collector
///   finished (its session ticket arrived): one it closed before that — as a collector at
///   its connection cap does with newcomers under a flood — never read the entry. At `suspectAfter` failures the entry is skipped once and the next one
///   is sent: if a collector takes that one, the fault was the entry's and it is set
///   aside (the collector would now take it for a duplicate anyway); if not, delivery
///   stops and nothing is lost. So no entry blocks the ones after it for more than a
///   few runs.
public struct Delivery: Sendable {
    public let spool: Spool
    public let collectors: CollectorList
    /// The wall clock in seconds since the epoch; a test moves it.
    let now: @Sendable () -> Int

    public init(spool: Spool, collectors: CollectorList, now: @escaping @Sendable () -> Int = { Int(time(nil)) }) {
        self.spool = spool
        self.collectors = collectors
        self.now = now
    }

    /// To one collector.
    public init(spool: Spool, connection: CollectorConnection, now: @escaping @Sendable () -> Int = { Int(time(nil)) }) {
        self.init(spool: spool, collectors: CollectorList([connection]), now: now)
    }

    /// The collector in use: the one that answered last.
    public var connection: CollectorConnection { collectors.current }

    /// Failures, each in a run of its own, after which an entry is suspected.
    public static let suspectAfter = 3
    /// A spool file larger than this is set aside unread: decoding it could take more
    /// memory than the agent's unit allows (MemoryMax=64M), and this agent never writes
    /// one (it trims to `WireLimits.snapshotBytes`; an older agent might have).
    public static let maxEntryBytes = 2 * WireLimits.snapshotBytes

    public struct Result: Sendable, Equatable {
        public var delivered = 0
        /// Of those, how many went as unchanged reports.
        public var unchanged = 0
        /// Never to be delivered — refused for good (4xx), not a snapshot at all, or
        /// suspected and then passed by — and set aside in the spool's `rejected/`, so
        /// one bad file does not block the rest.
        public var rejected: [String] = []
        /// Snapshots sent trimmed after a 413: which, and what was trimmed.
        public var trimmed: [String] = []
        public var remaining = 0
        /// Why delivery stopped, when it did: every collector's failure.
        public var stoppedBy: String?
        /// When every collector asked to be left alone until (Retry-After), the earliest,
        /// in seconds since the epoch: no delivery is tried before then.
        public var retryAt: Int?
        /// The collector asked this host to renew its certificate now (`X-Portwarden-Renew`:
        /// its CA is being rotated).
        public var renewAsked = false
        /// The digest of the CA bundle the collector trusts now, as its last answer stated
        /// it (`X-Portwarden-CA`): when ca.pem's differs, `CAUpdate` fetches the bundle.
        public var caDigest: String?
        /// Each collector that failed and the one tried next, in order.
        public var failovers: [Failover] = []
    }

    public func run() -> Result {
        var result = deliver()
        result.remaining = spool.entries().count
        return result
    }

    private func deliver() -> Result {
        var result = Result()
        let waiting = spool.entries()
        let addresses = collectors.connections.map(\.address)
        // Why each collector is out of this run: paused as it asked, or failed.
        var out: [Int: String] = [:]
        for (index, address) in addresses.enumerated() {
            if let pause = pause.current(for: address, now: now()) { out[index] = "paused as the collector asked: \(pause.reason)" }
        }
        func stop() -> Result {
            result.stoppedBy = addresses.count == 1 ? out[0] : addresses.indices.compactMap { index in
                out[index].map { "\(addresses[index]): \($0)" }
            }.joined(separator: "; ")
            let pauses = addresses.compactMap { pause.current(for: $0, now: now()) }
            if pauses.count == addresses.count { result.retryAt = pauses.map(\.until).min() }
            return result
        }
        if out.count == addresses.count {
            if addresses.count == 1, let paused = out[0] { out[0] = "delivery \(paused)" }
            return stop()
        }
        func setAside(_ entry: Spool.Entry, _ why: String) {
            let kept = spool.setAside(entry).map { "kept as \($0)" } ?? "deleted: it could not be moved"
            result.rejected.append("snapshot \(entry.sequence): \(why); \(kept)")
        }
        var suspect: (entry: Spool.Entry, why: String)?
        entries: for entry in waiting {
            var body: [UInt8]
            let snapshot: Snapshot
            switch prepare(entry) {
            case .success(let read): (body, snapshot) = read
            case .failure(let refused):
                setAside(entry, refused.reason)
                continue
            }
            // Sent as unchanged when its state is the one last acknowledged.
            let state = snapshot.stateDigest
            let unchanged = acknowledged.digest == state ? UnchangedReport(snapshot, stateDigest: state) : nil
            var trimmed: String?
            // Whose failure came with this entry on the wire: it may be the entry's fault.
            var reached: [Int: String] = [:]
            let candidates = collectors.order().filter { out[$0] == nil }
            for (position, index) in candidates.enumerated() {
                let answer = offer(entry, &body, trimmed: &trimmed, unchanged: unchanged, to: collectors.connections[index])
                switch answer {
                case .delivered(let renew, let caDigest, let asUnchanged):
                    collectors.keep(index)
                    // What was sent is what the collector now holds: trimmed, it is another state.
                    if trimmed == nil { acknowledged.remember(state) } else if let sent = try? Snapshot(wire: body) {
                        acknowledged.remember(sent.stateDigest)
                    }
                    spool.remove(entry)
                    if asUnchanged { result.unchanged += 1 }
                    if renew { result.renewAsked = true }
                    if let caDigest { result.caDigest = caDigest }
                    result.delivered += 1
                    if let trimmed { result.trimmed.append("snapshot \(entry.sequence): \(trimmed)") }
                    if let (suspected, why) = suspect {
                        setAside(suspected, "failed \(Self.suspectAfter) times (\(why)) while the next snapshot was taken")
                        suspect = nil
                    }
                    continue entries
                case .refused(let why):
                    collectors.keep(index)
                    setAside(entry, why)
                    continue entries
                case .wait(let why, let retryAfter):
                    out[index] = why
                    if let retryAfter { pause.set(addresses[index], until: now() + retryAfter, reason: why, now: now()) }
                    result.failovers.append(Failover(from: addresses[index], to: candidates.dropFirst(position + 1).first.map { addresses[$0] },
                                                     reason: why, untrusted: false))
                case .failed(let why, let onTheWire, let untrusted):
                    out[index] = why
                    if onTheWire { reached[index] = why }
                    result.failovers.append(Failover(from: addresses[index], to: candidates.dropFirst(position + 1).first.map { addresses[$0] },
                                                     reason: why, untrusted: untrusted))
                }
            }
            // Every collector failed. Only a failure once the request was on the wire may
            // be the entry's; a skipped entry's successor proves nothing when it fails too.
            if let why = reached.sorted(by: { $0.key < $1.key }).first?.value, suspect == nil, entry != waiting.last,
               (try? spool.recordFailure(entry)).map({ $0 >= Self.suspectAfter }) == true {
                suspect = (entry, why)
                // Those it failed on get the next entry: the fault may have been this one's.
                for index in reached.keys { out[index] = nil }
                continue
            }
            return stop()
        }
        return result
    }

    enum Attempt {
        /// Whether the answer asked to renew; the CA bundle digest it stated; whether it
        /// was taken as an unchanged report.
        case delivered(renew: Bool, caDigest: String?, unchanged: Bool)
        case refused(String)
        case wait(String, retryAfter: Int?)
        /// `reached`: the request was on the wire; `untrusted`: the collector's certificate did not verify here.
        case failed(String, reached: Bool, untrusted: Bool)
    }

    /// Why an entry is never to be sent.
    struct Unsendable: Error {
        let reason: String
    }

    /// A spooled snapshot's bytes and what they say, when they may go on the wire at all.
    func prepare(_ entry: Spool.Entry) -> Swift.Result<(body: [UInt8], snapshot: Snapshot), Unsendable> {
        guard entry.bytes <= Self.maxEntryBytes else {
            return .failure(Unsendable(reason: "\(entry.bytes) bytes, more than any snapshot this agent writes (\(Self.maxEntryBytes))"))
        }
        let body: [UInt8]
        do { body = try spool.read(entry) } catch { return .failure(Unsendable(reason: "cannot read it: \(error)")) }
        // A file the wire reader cannot read (a torn write, a disk error, junk put
        // there) would only be refused: it never goes on the wire.
        do { return .success((body, try Snapshot(wire: body))) } catch {
            return .failure(Unsendable(reason: "not a snapshot, \(error)"))
        }
    }

    /// A spooled snapshot's `body` offered to one collector — first as `unchanged`, when
    /// given — trimmed and offered again on 413 (`body` and `trimmed` are then what was
    /// sent, for the next collector too).
    func offer(_ entry: Spool.Entry, _ body: inout [UInt8], trimmed: inout String?, unchanged: UnchangedReport?,
               to connection: CollectorConnection) -> Attempt {
        var unchanged = unchanged
        // A collector that lowers its limit between two answers gets a second trim; no more.
        for _ in 0..<3 {
            let response: HTTPResponse
            var asUnchanged = false
            do {
                if let report = unchanged {
                    // Once: after a 409 and a 413 for the full snapshot, the trimmed one goes in full.
                    unchanged = nil
                    let sent = try connection.post(UnchangedReport.path, body: report.wire, otherwise: (Self.reportPath, body),
                                                   on: Self.sendInFull)
                    (response, asUnchanged) = (sent.response, !sent.second)
                } else {
                    response = try connection.post(Self.reportPath, body: body)
                }
            } catch let failure as RequestFailed {
                return .failed(failure.reason, reached: failure.reached, untrusted: failure.untrusted)
            } catch {
                return .failed("\(error)", reached: true, untrusted: false)
            }
            let answer = "the collector answered \(response.status): \(Self.firstLine(response.text))"
            switch response.status {
            case 200..<300:
                return .delivered(renew: response.headers["x-portwarden-renew"] != nil, caDigest: response.headers["x-portwarden-ca"],
                                  unchanged: asUnchanged)
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
                return .failed(answer, reached: true, untrusted: false)
            }
        }
        return .refused("the collector kept answering 413 to trimmed versions of it")
    }

    var pause: DeliveryPause { DeliveryPause(path: spool.directory + "/paused-until") }
    var acknowledged: AcknowledgedState { AcknowledgedState(path: spool.directory + "/acknowledged-state") }

    static let reportPath = "/v1/reports"
    /// Answers to an unchanged report after which the snapshot goes in full at once: the
    /// collector does not hold the state (409), or predates unchanged reports (404, 405),
    /// or could not read it (400: the full snapshot is judged on its own).
    static let sendInFull: Set<Int> = [400, 404, 405, 409]

    /// An answer's first line, at most 200 bytes: enough to say why, never a page.
    static func firstLine(_ text: String) -> String {
        String(text.prefix { $0 != "\n" && $0 != "\r" }.prefix(200))
    }
}
