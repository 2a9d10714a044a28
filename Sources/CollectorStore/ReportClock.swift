import Foundation
import PortwardenModel

/// The collector's rule for a report's `collected_at` (docs/wire-format.md, "Validation"):
/// it decides which intervals a report opens and closes and which waivers apply, so a
/// host's clock must not write the fleet's history.
///
/// - Ahead of the collector's clock by more than `maxSkew`: refused, clock skew.
/// - Older than the host's newest stored report by more than `maxSkew`: refused, out of
///   order — history is written forwards only. Within it (a fast clock set right), the
///   report is stored at that newest time.
/// - Older than `maxSkew` before the collector's clock: accepted only as spooled
///   redelivery — a report with a sequence after the host's last stored one (any, for a
///   host with none stored).
public struct ReportClock: Sendable {
    /// Seconds a report may be dated ahead of the collector's clock, and the age past
    /// which it counts as redelivered.
    public var maxSkew: Int64

    public static let defaultMaxSkew: Int64 = 300

    public init(maxSkew: Int64 = ReportClock.defaultMaxSkew) { self.maxSkew = maxSkew }

    /// `collected_at` as seconds since the epoch, or why it is not the wire format's
    /// RFC 3339 time.
    public static func seconds(_ collectedAt: String) throws(ReportRefusal) -> Int64 {
        guard let seconds = Timestamp.seconds(rfc3339: collectedAt) else {
            throw ReportRefusal(.badRequest, "collected_at \"\(collectedAt)\" is not an RFC 3339 time that exists (e.g. 2026-11-25T14:00:52Z)")
        }
        return seconds
    }

    /// What can be judged without the history: the clock skew, and an old report without
    /// a sequence. Run as a report arrives, before it is queued.
    public func check(collectedAt: Int64, sequence: UInt64?, receivedAt: Int64) throws(ReportRefusal) {
        if collectedAt > receivedAt + maxSkew {
            throw ReportRefusal(.clockSkew, """
                clock skew: collected_at \(Self.text(collectedAt)) is ahead of the collector's clock \
                (\(Self.text(receivedAt))) by \(Seconds(Int(collectedAt - receivedAt))), more than max_clock_skew (\(Seconds(Int(maxSkew)))); \
                set the host's clock (NTP)
                """)
        }
        if collectedAt < receivedAt - maxSkew, sequence == nil {
            throw ReportRefusal(.outOfOrder, """
                collected_at \(Self.text(collectedAt)) is more than \(Seconds(Int(maxSkew))) before the collector's clock \
                (\(Self.text(receivedAt))) and the report has no sequence: only an agent's spooled reports, \
                numbered, are accepted late
                """)
        }
    }

    /// What the host's history decides, inside the ingest transaction (after dedupe):
    /// the time to store the report at. `stored` is nil for a host never stored.
    func check(collectedAt: Int64, sequence: Int64?, receivedAt: Int64, stored: HostRecord?) throws(ReportRefusal) -> Int64 {
        // A newest time past the skew was written before the collector checked clocks:
        // it orders nothing, or one bad report would lock the host out until then.
        let newest = stored.flatMap { $0.lastSeen <= receivedAt + maxSkew ? $0.lastSeen : nil }
        if let newest, collectedAt < newest - maxSkew {
            throw ReportRefusal(.outOfOrder, """
                collected_at \(Self.text(collectedAt)) is more than \(Seconds(Int(maxSkew))) older than this host's newest stored \
                report (\(Self.text(newest))): history is written forwards only
                """)
        }
        if collectedAt < receivedAt - maxSkew, sequence.map({ $0 <= stored?.lastSequence ?? -1 }) ?? true {
            throw ReportRefusal(.outOfOrder, """
                collected_at \(Self.text(collectedAt)) is more than \(Seconds(Int(maxSkew))) before the collector's clock \
                (\(Self.text(receivedAt))) and its sequence \(sequence.map(String.init) ?? "null") does not follow \
                the last stored (\(stored?.lastSequence.map(String.init) ?? "none")): late reports are accepted in \
                sequence order only
                """)
        }
        // A clock set back within the skew (NTP stepping a fast clock) loses no report:
        // it is stored at the host's newest time, so no interval closes before it opened.
        return max(collectedAt, newest ?? collectedAt)
    }

    static func text(_ seconds: Int64) -> String { Timestamp.rfc3339(seconds) }
}
