import CollectorClient
import Glibc
import OpenSSLTLS
import StateFiles

/// Keeps ca.pem to the bundle the collector trusts now. Each report's answer states the
/// digest of that bundle (`X-Portwarden-CA`); when ca.pem's differs the agent fetches it
/// (`GET /v1/ca`, over the same mutual TLS) and installs it if `TrustCheck` allows: it
/// keeps the CA of the connection and the CA of this host's certificate. So when a CA
/// rotation ends (`ca retire-old`, the collector restarted) the old CA leaves ca.pem at
/// the next report, and whoever holds its key can no longer pose as the collector.
public struct CAUpdate: Sendable {
    public let state: AgentState

    public init(state: AgentState) { self.state = state }

    /// Whether ca.pem is not the bundle whose digest the collector stated.
    public func isNeeded(digest: String) -> Bool {
        (try? Certificate.bundleDigest(state.trustedCAs())) != digest
    }

    /// Fetches the collector's bundle and installs it; its CAs. Throws `TrustRefused`
    /// (ca.pem untouched) when it may not replace ca.pem, `RequestFailed` without one.
    @discardableResult
    public func update(through connection: CollectorConnection) throws -> [Certificate] {
        let answer = try connection.caBundle()
        return try install(answer.pem, server: answer.server, now: Int64(time(nil)))
    }

    /// Checks `pem`, which came over a connection whose server presented `server`, and
    /// installs it in place of ca.pem.
    public func install(_ pem: String, server: Certificate?, now: Int64) throws -> [Certificate] {
        let own = try Renewal(state: state).certificate()
        let bundle = try TrustCheck(server: server, trusted: state.trustedCAs(), now: now).bundle(pem, keeping: own)
        try StateFile.write(bundle.map { try $0.pem() }.joined(), to: state.caPath, mode: 0o644)
        return bundle
    }
}

extension AgentState {
    /// The CAs in ca.pem: the only ones the agent trusts.
    public func trustedCAs() throws -> [Certificate] {
        do { return try Certificate.all(pem: StateFile.read(caPath, followingLinks: false)) } catch {
            throw AgentStateError("cannot read the fleet CA bundle \(caPath): \(error)")
        }
    }
}
