import CollectorClient
import OpenSSLCrypto
import OpenSSLTLS
import StateFiles
import Synchronization

/// The collectors this host may report to, in its own order, and the one it keeps to:
/// the last that answered, until it does not. The order sorts the collectors by a digest
/// of this host's name with each (rendezvous hashing): a fleet spreads evenly over them,
/// a host starts with the same one every time, and adding or removing a collector moves
/// only the hosts whose first choice it is or was.
public final class CollectorList: Sendable {
    /// In this host's order.
    public let connections: [CollectorConnection]
    /// Where the one in use is kept between runs (`run --once` from cron starts with it).
    let keptPath: String?
    private let inUse: Mutex<Int>

    /// `connections` as they are (not empty), starting with the one `keptPath` names when
    /// it is among them.
    public init(_ connections: [CollectorConnection], keptIn keptPath: String? = nil) {
        precondition(!connections.isEmpty, "a collector list holds at least one collector")
        self.connections = connections
        self.keptPath = keptPath
        let kept = keptPath.flatMap { try? StateFile.read($0, followingLinks: false) }?.split(separator: "\n").first.map(String.init)
        inUse = Mutex(connections.firstIndex { $0.address == kept } ?? 0)
    }

    /// `connections` in the order the host `name` tries them.
    public static func order(_ connections: [CollectorConnection], for name: String) -> [CollectorConnection] {
        connections.map { (Digest.sha256(Array("\(name)\n\($0.address)".utf8)), $0) }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// The collector in use.
    public var current: CollectorConnection { connections[inUse.withLock { $0 }] }

    /// Every collector's index, the one in use first and then those after it in order.
    func order() -> [Int] {
        let first = inUse.withLock { $0 }
        return connections.indices.map { (first + $0) % connections.count }
    }

    /// The collector at `index` answered: keep to it, in this process and the next.
    func keep(_ index: Int) {
        let moved = inUse.withLock { inUse in
            defer { inUse = index }
            return inUse != index
        }
        // Best effort: a file that cannot be written costs the next run one detour.
        if moved, let keptPath { try? StateFile.write(connections[index].address + "\n", to: keptPath, mode: 0o600) }
    }

    /// The same collectors in the same order, keeping to the same one, through `context`
    /// (a renewed certificate), resuming no TLS session of the old one and keeping none
    /// of its connections open.
    public func with(context: TLSContext) -> CollectorList {
        let list = CollectorList(connections.map {
            CollectorConnection(host: $0.host, port: $0.port, context: context, serverName: $0.serverName, timeout: $0.timeout,
                                sessions: $0.sessions == nil ? nil : SessionCache(), kept: $0.kept == nil ? nil : KeptConnection())
        }, keptIn: keptPath)
        list.inUse.withLock { $0 = inUse.withLock { $0 } }
        return list
    }
}

/// A collector that did not answer, and the one tried next (nil: none was left).
public struct Failover: Sendable, Equatable, CustomStringConvertible {
    public let from: String
    public let to: String?
    public let reason: String
    /// Its certificate did not verify here: a wrong CA file or name — or an impostor.
    public let untrusted: Bool

    public var description: String { "\(from): \(reason)" }
}

extension CollectorList {
    /// `request` through each collector in turn, the one in use first, until one
    /// answers; `failed` hears of each that did not. No answer (`RequestFailed`) or an
    /// answer to come back later (`EnrollmentRefused` 429 or 5xx) moves on; any other
    /// answer or error is the outcome. When none answers: the one collector's error, or
    /// a `RequestFailed` naming each (untrusted only when every one was).
    public func firstAnswer<T>(_ request: (CollectorConnection) throws -> T,
                               failed: (Failover) -> Void = { _ in }) throws -> T {
        let order = order()
        var failures: [(error: any Error, failover: Failover, reached: Bool)] = []
        for (position, index) in order.enumerated() {
            do {
                let answer = try request(connections[index])
                keep(index)
                return answer
            } catch {
                let refused = error as? EnrollmentRefused, noAnswer = error as? RequestFailed
                guard noAnswer != nil || refused.map({ $0.status == 429 || $0.status >= 500 }) == true else { throw error }
                let failover = Failover(from: connections[index].address,
                                        to: order.dropFirst(position + 1).first.map { connections[$0].address },
                                        reason: "\(error)", untrusted: noAnswer?.untrusted == true)
                failures.append((error, failover, noAnswer?.reached ?? true))
                failed(failover)
            }
        }
        if failures.count == 1 { throw failures[0].error }
        throw RequestFailed(reached: failures.contains { $0.reached },
                            reason: "no collector answered: " + failures.map { "\($0.failover)" }.joined(separator: "; "),
                            untrusted: failures.allSatisfy { $0.failover.untrusted })
    }
}
