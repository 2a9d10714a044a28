import Glibc
import OpenSSLTLS
import StateFiles

/// The agent's state directory: its identity (key, certificate, the fleet CA), its
/// snapshot counter and its spool.
///
///     host.key   0600, made here, never sent anywhere
///     host.pem   the certificate the collector issued
///     ca.pem     the fleet CA bundle: the only authorities the agent trusts (two
///                while the collector's CA is rotated)
///     host.key.next, host.pem.next   a renewal under way (AgentState+Renewal)
///     sequence   the last snapshot number handed out
///     collector  the collector that last answered (host:port), tried first next run
///     spool/     snapshots waiting for the collector
public struct AgentState: Sendable {
    public let directory: String

    /// The least the next snapshot number may be (default: microseconds since the epoch).
    let sequenceFloor: @Sendable () -> UInt64

    public init(directory: String, sequenceFloor: @escaping @Sendable () -> UInt64 = AgentState.microsecondsSinceEpoch) {
        self.directory = directory
        self.sequenceFloor = sequenceFloor
    }

    public var keyPath: String { directory + "/host.key" }
    public var certificatePath: String { directory + "/host.pem" }
    public var caPath: String { directory + "/ca.pem" }
    var sequencePath: String { directory + "/sequence" }
    public var collectorPath: String { directory + "/collector" }
    public var spoolDirectory: String { directory + "/spool" }

    /// Creates the directory and its spool (0700) if needed, and checks both are the
    /// agent's alone (PrivateDirectory): an error says what to fix.
    public func prepare() throws(AgentStateError) {
        try PrivateDirectory.prepare(directory, followingLink: true)
        try PrivateDirectory.prepare(spoolDirectory, followingLink: false)
        do { try finishRenewal() } catch { throw AgentStateError("cannot finish the renewal a crash cut short: \(error)") }
    }

    /// A TLS context that presents this host's certificate and trusts only the fleet CA.
    public func clientContext() throws -> TLSContext {
        func load(_ path: String, _ what: String) throws -> String {
            do { return try StateFile.read(path, followingLinks: false) } catch {
                var st = stat()
                guard lstat(path, &st) != 0 && errno == ENOENT else { throw AgentStateError("cannot read the \(what): \(error)") }
                throw AgentStateError("no \(what) at \(path): enroll this host first (portwarden-agent enroll)")
            }
        }
        func hostKey() throws -> PrivateKey {
            _ = try load(keyPath, "host key")  // there, and a plain file
            do { return try PrivateKey.read(from: keyPath, followingLinks: false) } catch { throw AgentStateError("\(error)") }
        }
        return try TLSContext.client(trusting: Certificate.all(pem: load(caPath, "fleet CA")),
                                     certificate: Certificate(pem: load(certificatePath, "host certificate")),
                                     key: hostKey())
    }

    /// The host name the collector gave this host, from its certificate.
    public func enrolledName() throws -> String {
        guard let certificate = try? Certificate(pem: StateFile.read(certificatePath, followingLinks: false)),
              let name = certificate.commonName
        else { throw AgentStateError("no host certificate at \(certificatePath): enroll this host first (portwarden-agent enroll)") }
        return name
    }

    /// The next snapshot number, written to disk before it is used: after a crash the
    /// agent never hands out a number the collector may already have acknowledged. Nor
    /// after its state was lost (a reinstall) or rolled back (a VM restored from a
    /// snapshot): the number is never below the microseconds since the epoch, so it is
    /// past every number an earlier state of this host handed out, and the collector
    /// does not take a new snapshot for a redelivered one (same boot, sequence not newer).
    public func nextSequence() throws -> UInt64 {
        do { return try CounterFile(path: sequencePath).advance(atLeast: sequenceFloor()) } catch {
            throw AgentStateError("cannot number the next snapshot: \(error)")
        }
    }

    @Sendable public static func microsecondsSinceEpoch() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(max(0, now.tv_sec)) * 1_000_000 + UInt64(max(0, now.tv_nsec)) / 1_000
    }
}

public struct AgentStateError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
