import CollectorStore
import Foundation
import Logging
import NIOPosix

/// What the TLS layer asks about a verified client certificate, at every handshake
/// (resumed sessions included) and again on a kept-alive connection: whether the store
/// refuses it (revoked, or superseded by a renewed certificate already presented), and
/// recording a certificate's first presentation, which retires its predecessor.
struct CertificateCheck: Sendable {
    /// One cached read: runs on the event loop.
    let standing: @Sendable (String) -> CertificateStanding
    /// A write, once per certificate: hands itself to a thread pool, never blocking the loop.
    let presented: @Sendable (String) -> Void
    /// The key identifiers of the CAs being retired (`ca rotate`'s old one): a certificate
    /// from one of them that this collector never issued is refused — whoever minted it
    /// holds the old key, and a rotation is often made because that key leaked.
    var retiring: Set<String> = []
    /// Client certificates' identities as read at their first handshake, shared by every
    /// connection (resumed sessions present the same certificate again).
    let identities = PeerIdentities()

    init(standing: @escaping @Sendable (String) -> CertificateStanding, presented: @escaping @Sendable (String) -> Void) {
        self.standing = standing
        self.presented = presented
    }

    /// Asks `database`; first presentations are written on `pool`.
    init(database: any HistoryStore, pool: NIOThreadPool, logger: Logger) {
        standing = { database.standing(serial: $0) }
        presented = { serial in
            pool.submit { state in
                guard state == .active else { return }
                do { try database.markPresented(serial: serial, at: Int64(Date().timeIntervalSince1970)) } catch {
                    // Asked again at the next handshake: still unmarked.
                    logger.error("could not record a certificate's first use", metadata: [
                        "event": "certificate_use_not_recorded", "serial": "\(serial)", "reason": "\(error)"])
                }
            }
        }
    }

    /// Whether `serial` is refused now.
    func isRefused(_ serial: String) -> Bool { standing(serial).isRefused }

    /// Why a certificate the store does not know is refused; nil when it is taken (one
    /// from the current CA: a database restored from before it was issued).
    func unrecordedRefusal(_ identity: PeerIdentity) -> String? {
        guard let issuer = identity.issuer, retiring.contains(issuer) else { return nil }
        return "certificate \(identity.serial ?? "?") of \(identity.host ?? "?") was not issued by this collector and is "
            + "from the CA being retired: refused (enroll the host again if it is one of yours)"
    }
}
